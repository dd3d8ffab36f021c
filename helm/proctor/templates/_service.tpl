{{- define "proctor.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "proctor.fullname" . }}
  labels:
    {{- include "proctor.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "proctor.selectorLabels" . | nindent 4 }}
  ports:
    - {name: grpc, port: {{ .root.Values.common.grpcPort }}, targetPort: grpc, protocol: TCP, appProtocol: kubernetes.io/h2c}
    - {name: metrics, port: {{ .root.Values.common.metricsPort }}, targetPort: metrics, protocol: TCP}
    {{- if .svc.httpPort }}
    - {name: http, port: {{ .svc.httpPort }}, targetPort: http, protocol: TCP}
    {{- end }}
{{- end }}

{{- define "proctor.serviceMonitor" -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "proctor.fullname" . }}
  labels:
    {{- include "proctor.labels" . | nindent 4 }}
    {{- with .root.Values.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "proctor.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ .root.Values.serviceMonitor.interval }}
      # the services label their series with service="<name>"; keep it (the target's own service
      # label would otherwise rename it to exported_service and break the dashboards)
      honorLabels: true
{{- end }}

{{- define "proctor.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "proctor.fullname" . }}
  labels:
    {{- include "proctor.labels" . | nindent 4 }}
spec:
  {{- toYaml .svc.pdb | nindent 2 }}
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "proctor.selectorLabels" . | nindent 6 }}
{{- end }}
