// Texts of the console in zh-CN (default) and English. Enum labels are keyed by the proto enum
// value name without its prefix (e.g. kind_NO_FACE for INCIDENT_KIND_NO_FACE).

const zh = {
  title: "监考控制台", logout: "退出登录", login_title: "使用监考令牌登录", token_label: "监考令牌",
  token_hint: "令牌只保存在本标签页（sessionStorage），关闭后即清除。", login: "登录",
  token_missing: "请粘贴监考令牌", token_malformed: "令牌格式无效",
  sitting: "场次", rooms: "考场", rooms_placeholder: "全部（逗号分隔）", apply: "应用",
  filter_kind: "类型", filter_severity: "最低严重度", filter_status: "状态", all: "全部", open: "未处理完",
  incidents: "异常事件", candidates: "考生", help: "求助",
  conn_off: "未连接", conn_connecting: "连接中…", conn_live: "实时", conn_reconnecting: "重新连接中…",
  conn_error: "连接错误",
  ack: "接手", resolve: "裁定", escalate: "上报主监考", warn: "提醒：保持面部在画面内",
  note_placeholder: "备注", reply_placeholder: "回复考生…", send: "发送",
  shown_of: (shown, total) => `显示 ${shown} / 共 ${total}`,
  active: "进行中", ended: "已结束", by: "处理人", notice_sent: "已向考生发送提醒", reply_sent: "回复已发送",
  chat_with: (name) => `与 ${name} 的对话`, proctor: "监考", candidate: "考生",
  offline: "离线", question: (i, n) => `第 ${i} / ${n} 题`, incidents_count: (n) => `${n} 个事件`,
  sitting_required: "请填写场次", no_threads: "暂无求助",
  kind_NO_FACE: "未检测到人脸", kind_MULTIPLE_FACES: "多人出现", kind_FACE_MASKED: "面部遮挡（口罩）",
  kind_FACE_OCCLUDED: "面部被遮挡", kind_CAMERA_COVERED: "摄像头被遮挡", kind_TOO_DARK: "光线过暗",
  kind_GAZE_AWAY: "视线离开屏幕", kind_IDENTITY_MISMATCH: "身份不符", kind_TALKING: "说话",
  kind_SECOND_MONITOR: "第二显示器", kind_FOCUS_LOST: "切出考试窗口", kind_SCREENSHOT_ATTEMPT: "截屏/录屏",
  kind_VIRTUAL_MACHINE: "虚拟机", kind_REMOTE_DESKTOP: "远程桌面", kind_PROHIBITED_PROCESS: "违禁程序",
  kind_PHONE_CANDIDATE_NOT_VISIBLE: "手机画面中不见考生", kind_PHONE_CAMERA_MOVED: "手机机位移动",
  kind_PHONE_CAMERA_COVERED: "手机摄像头被遮挡", kind_SECOND_DEVICE_LOGIN: "第二设备登录",
  kind_ABANDONED: "中途离开", kind_NETWORK_OFFLINE: "网络断开", kind_PHONE_OFFLINE: "手机离线",
  kind_RECORDING_INTERRUPTED: "录制中断", kind_OFFLINE_ANSWER_FLAGGED: "离线作答待核",
  kind_UPLOAD_INCOMPLETE: "上传不完整", kind_MEDIA_INVALID: "媒体文件异常", kind_OTHER: "其他",
  sev_INFO: "提示", sev_LOW: "低", sev_MEDIUM: "中", sev_HIGH: "高", sev_CRITICAL: "严重",
  status_NEW: "新", status_ACKNOWLEDGED: "已接手", status_ESCALATED: "已上报", status_RESOLVED: "已裁定",
  verdict_CONFIRMED: "确认违规", verdict_FALSE_ALARM: "误报", verdict_NEEDS_REVIEW: "待复核",
  state_REGISTERED: "已登记", state_LOGGED_IN: "已登录", state_PHONE_BOUND: "已绑定手机",
  state_ROOM_SCANNED: "已环拍", state_WAITING: "候考中", state_IN_EXAM: "考试中", state_FINISHED: "已结束",
  state_UPLOADED: "已上传", state_ABSENT: "缺考", state_ABANDONED: "中途放弃", state_UNSPECIFIED: "未知",
};

const en = {
  title: "Proctor console", logout: "Sign out", login_title: "Sign in with a proctor token", token_label: "Proctor token",
  token_hint: "The token is kept in this tab only (sessionStorage) and is gone when the tab closes.", login: "Sign in",
  token_missing: "Paste a proctor token", token_malformed: "The token is malformed",
  sitting: "Sitting", rooms: "Rooms", rooms_placeholder: "all (comma-separated)", apply: "Apply",
  filter_kind: "Kind", filter_severity: "Min severity", filter_status: "Status", all: "All", open: "Open",
  incidents: "Incidents", candidates: "Candidates", help: "Help requests",
  conn_off: "offline", conn_connecting: "connecting…", conn_live: "live", conn_reconnecting: "reconnecting…",
  conn_error: "connection error",
  ack: "Acknowledge", resolve: "Resolve", escalate: "Escalate to chief", warn: "Warn: keep face in view",
  note_placeholder: "note", reply_placeholder: "Reply to the candidate…", send: "Send",
  shown_of: (shown, total) => `${shown} shown of ${total}`,
  active: "ongoing", ended: "ended", by: "by", notice_sent: "Warning sent to the candidate", reply_sent: "Reply sent",
  chat_with: (name) => `Chat with ${name}`, proctor: "Proctor", candidate: "Candidate",
  offline: "offline", question: (i, n) => `question ${i} / ${n}`, incidents_count: (n) => `${n} incident(s)`,
  sitting_required: "Enter a sitting", no_threads: "No help requests",
  kind_NO_FACE: "No face", kind_MULTIPLE_FACES: "Multiple faces", kind_FACE_MASKED: "Face masked",
  kind_FACE_OCCLUDED: "Face occluded", kind_CAMERA_COVERED: "Camera covered", kind_TOO_DARK: "Too dark",
  kind_GAZE_AWAY: "Looking away", kind_IDENTITY_MISMATCH: "Identity mismatch", kind_TALKING: "Talking",
  kind_SECOND_MONITOR: "Second monitor", kind_FOCUS_LOST: "Focus lost", kind_SCREENSHOT_ATTEMPT: "Screenshot attempt",
  kind_VIRTUAL_MACHINE: "Virtual machine", kind_REMOTE_DESKTOP: "Remote desktop",
  kind_PROHIBITED_PROCESS: "Prohibited process", kind_PHONE_CANDIDATE_NOT_VISIBLE: "Not visible on phone",
  kind_PHONE_CAMERA_MOVED: "Phone camera moved", kind_PHONE_CAMERA_COVERED: "Phone camera covered",
  kind_SECOND_DEVICE_LOGIN: "Second device login", kind_ABANDONED: "Abandoned", kind_NETWORK_OFFLINE: "Network offline",
  kind_PHONE_OFFLINE: "Phone offline", kind_RECORDING_INTERRUPTED: "Recording interrupted",
  kind_OFFLINE_ANSWER_FLAGGED: "Offline answers flagged", kind_UPLOAD_INCOMPLETE: "Upload incomplete",
  kind_MEDIA_INVALID: "Invalid media", kind_OTHER: "Other",
  sev_INFO: "info", sev_LOW: "low", sev_MEDIUM: "medium", sev_HIGH: "high", sev_CRITICAL: "critical",
  status_NEW: "new", status_ACKNOWLEDGED: "acknowledged", status_ESCALATED: "escalated", status_RESOLVED: "resolved",
  verdict_CONFIRMED: "confirmed", verdict_FALSE_ALARM: "false alarm", verdict_NEEDS_REVIEW: "needs review",
  state_REGISTERED: "registered", state_LOGGED_IN: "logged in", state_PHONE_BOUND: "phone bound",
  state_ROOM_SCANNED: "room scanned", state_WAITING: "waiting", state_IN_EXAM: "in exam", state_FINISHED: "finished",
  state_UPLOADED: "uploaded", state_ABSENT: "absent", state_ABANDONED: "abandoned", state_UNSPECIFIED: "unknown",
};

export const KINDS = Object.keys(zh).filter((k) => k.startsWith("kind_")).map((k) => k.slice(5));
export const SEVERITIES = ["INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
export const STATUSES = ["NEW", "ACKNOWLEDGED", "ESCALATED", "RESOLVED"];
export const STATES = ["REGISTERED", "LOGGED_IN", "PHONE_BOUND", "ROOM_SCANNED", "WAITING", "IN_EXAM", "FINISHED",
  "UPLOADED", "ABSENT", "ABANDONED"];

const dictionaries = { zh, en };
let current = "zh";

export function setLanguage(lang) {
  current = lang === "en" ? "en" : "zh";
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
}

export function language() {
  return current;
}

// t("key") or t("shown_of", 3, 5); an unknown key shows itself (never HTML).
export function t(key, ...args) {
  const value = dictionaries[current][key] ?? zh[key] ?? key;
  return typeof value === "function" ? value(...args) : value;
}

// Label of a proto enum name: label("kind_", "INCIDENT_KIND_", "INCIDENT_KIND_NO_FACE").
export function label(group, prefix, name) {
  const short = (name || "").startsWith(prefix) ? name.slice(prefix.length) : (name || "UNSPECIFIED");
  return t(group + short);
}

// The server's ErrorDetail texts in the current language.
export function errorText(error) {
  if (!error) return "";
  const text = current === "zh" ? (error.message_zh || error.message_en) : (error.message_en || error.message_zh);
  return text || error.reason || error.code || "error";
}

// Re-label the static elements (data-i18n / data-i18n-placeholder).
export function translateStatic(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}
