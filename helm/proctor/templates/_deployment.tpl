{{- define "proctor.env" -}}
{{- $p := .svc.envPrefix -}}
{{- $c := .root.Values.common -}}
- {name: {{ $p }}GRPC_HOST, value: "0.0.0.0"}
- {name: {{ $p }}GRPC_PORT, value: {{ $c.grpcPort | quote }}}
- {name: {{ $p }}METRICS_HOST, value: "0.0.0.0"}
- {name: {{ $p }}METRICS_PORT, value: {{ $c.metricsPort | quote }}}
- {name: {{ $p }}KAFKA_BOOTSTRAP, value: {{ .root.Values.kafka.bootstrap | quote }}}
- {name: {{ $p }}TOKEN_PUBLIC_KEYS, value: {{ $c.tokenPublicKeys | quote }}}
- {name: {{ $p }}LOG_LEVEL, value: {{ $c.logLevel | quote }}}
- {name: {{ $p }}SHUTDOWN_GRACE_S, value: {{ $c.shutdownGraceSeconds | quote }}}
{{- if .svc.database }}
- name: {{ $p }}DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ .root.Values.secrets.database }}, key: {{ .svc.databaseKey | default .name }}}}
{{- end }}
{{- if .svc.signingKey }}
- name: {{ $p }}TOKEN_SIGNING_KEY
  valueFrom: {secretKeyRef: {name: {{ .root.Values.secrets.signingKeys }}, key: {{ .name }}}}
{{- end }}
{{- if .svc.httpPort }}
- {name: {{ $p }}HTTP_HOST, value: "0.0.0.0"}
- {name: {{ $p }}HTTP_PORT, value: {{ .svc.httpPort | quote }}}
{{- end }}
{{- range $setting, $target := .svc.calls }}
- {name: {{ $p }}{{ $setting }}, value: {{ printf "%s-%s:%v" $.root.Release.Name $target $c.grpcPort | quote }}}
{{- end }}
{{- if .svc.objectStorage }}
{{- $s := .root.Values.secrets.objectStorage }}
- {name: MEDIA_STORAGE_URL, value: {{ .root.Values.objectStorage.url | quote }}}
- {name: MEDIA_STORAGE_S3_ENDPOINT_URL, value: {{ .root.Values.objectStorage.endpointUrl | quote }}}
- {name: MEDIA_STORAGE_S3_REGION, value: {{ .root.Values.objectStorage.region | quote }}}
- name: MEDIA_STORAGE_S3_ACCESS_KEY
  valueFrom: {secretKeyRef: {name: {{ $s.name }}, key: {{ $s.accessKeyKey }}}}
- name: MEDIA_STORAGE_S3_SECRET_KEY
  valueFrom: {secretKeyRef: {name: {{ $s.name }}, key: {{ $s.secretKeyKey }}}}
{{- end }}
{{- range $setting, $ref := .svc.secretEnv }}
- name: {{ $p }}{{ $setting }}
  valueFrom: {secretKeyRef: {name: {{ $ref.name }}, key: {{ $ref.key }}}}
{{- end }}
{{- range $setting, $value := .svc.env }}
- {name: {{ $p }}{{ $setting }}, value: {{ $value | quote }}}
{{- end }}
{{- range $var, $value := .svc.rawEnv }}
- {name: {{ $var }}, value: {{ $value | quote }}}
{{- end }}
- {name: HOME, value: /tmp}
- {name: PYTHONDONTWRITEBYTECODE, value: "1"}
- {name: PYTHONUNBUFFERED, value: "1"}
{{- end }}

{{/* A probe from values: a grpc probe gets the gRPC port, and the service's name unless it names one. */}}
{{- define "proctor.probe" -}}
{{- $probe := deepCopy .probe -}}
{{- if hasKey $probe "grpc" -}}
{{- $grpc := merge (dict "port" (int .root.Values.common.grpcPort)) $probe.grpc -}}
{{- if not (hasKey $grpc "service") }}{{- $_ := set $grpc "service" .svc.grpcService -}}{{- end -}}
{{- $_ := set $probe "grpc" $grpc -}}
{{- end -}}
{{ toYaml $probe }}
{{- end }}

{{- define "proctor.deployment" -}}
{{- $c := .root.Values.common -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "proctor.fullname" . }}
  labels:
    {{- include "proctor.labels" . | nindent 4 }}
spec:
  {{- if eq .svc.autoscaling.mode "none" }}
  replicas: {{ .svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "proctor.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}
  template:
    metadata:
      labels:
        {{- include "proctor.labels" . | nindent 8 }}
      {{- with $c.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ .root.Release.Name }}-proctor
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ add $c.shutdownGraceSeconds $c.drainSeconds }}
      {{- with .root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ $c.runAsUser }}
        runAsGroup: {{ $c.runAsGroup }}
        fsGroup: {{ $c.runAsGroup }}
        seccompProfile: {type: RuntimeDefault}
      {{- with $c.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $c.topologySpread }}
      topologySpreadConstraints:
        {{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
        - maxSkew: 1
          topologyKey: {{ $key }}
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "proctor.selectorLabels" $ | nindent 14 }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ .name }}
          image: {{ include "proctor.image" .root }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          command: ["python", "-m", {{ .svc.module | quote }}]
          ports:
            - {name: grpc, containerPort: {{ $c.grpcPort }}, protocol: TCP}
            - {name: metrics, containerPort: {{ $c.metricsPort }}, protocol: TCP}
            {{- if .svc.httpPort }}
            - {name: http, containerPort: {{ .svc.httpPort }}, protocol: TCP}
            {{- end }}
          env:
            {{- include "proctor.env" . | nindent 12 }}
          resources:
            {{- toYaml .svc.resources | nindent 12 }}
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            privileged: false
            capabilities: {drop: [ALL]}
          {{- with .svc.probes }}
          startupProbe:
            {{- include "proctor.probe" (dict "root" $.root "svc" $.svc "probe" .startup) | nindent 12 }}
          readinessProbe:
            {{- include "proctor.probe" (dict "root" $.root "svc" $.svc "probe" .readiness) | nindent 12 }}
          livenessProbe:
            {{- include "proctor.probe" (dict "root" $.root "svc" $.svc "probe" .liveness) | nindent 12 }}
          {{- end }}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
      volumes:
        - name: tmp
          emptyDir: {sizeLimit: {{ .svc.tmpSizeLimit }}}
{{- end }}
