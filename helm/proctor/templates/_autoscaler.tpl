{{/* HPA on CPU for the gRPC services; KEDA ScaledObject on consumer-group lag for the Kafka workers. */}}
{{- define "proctor.autoscaler" -}}
{{- $a := .svc.autoscaling -}}
{{- if eq $a.mode "cpu" -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "proctor.fullname" . }}
  labels:
    {{- include "proctor.labels" . | nindent 4 }}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: {{ include "proctor.fullname" . }}}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: {{ $a.targetCPUUtilizationPercentage }}}
  behavior:
    # the login wave ramps in minutes: scale up at once, scale down slowly
    scaleUp: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 100, periodSeconds: 30}]}
    scaleDown: {stabilizationWindowSeconds: 600, policies: [{type: Percent, value: 20, periodSeconds: 60}]}
{{- else if eq $a.mode "kafka-lag" -}}
{{- range $topic := $a.topics }}
{{- $partitions := include "proctor.partitions" (dict "root" $.root "topic" $topic) | int }}
{{- if gt (int $a.maxReplicas) $partitions }}
{{- fail (printf "services.%s.autoscaling.maxReplicas %v exceeds the %d partitions of %s: the extra consumers would idle (raise kafka.topics.partitions)" $.name $a.maxReplicas $partitions $topic) }}
{{- end }}
{{- end -}}
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: {{ include "proctor.fullname" . }}
  labels:
    {{- include "proctor.labels" . | nindent 4 }}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: {{ include "proctor.fullname" . }}}
  minReplicaCount: {{ $a.minReplicas }}
  maxReplicaCount: {{ $a.maxReplicas }}
  pollingInterval: 15
  cooldownPeriod: 600
  triggers:
    {{- range $topic := $a.topics }}
    - type: kafka
      metadata:
        bootstrapServers: {{ $.root.Values.kafka.bootstrap | quote }}
        consumerGroup: {{ $a.consumerGroup | quote }}
        topic: {{ $topic | quote }}
        lagThreshold: {{ $a.lagThreshold | quote }}
        offsetResetPolicy: earliest
        allowIdleConsumers: "false"
    {{- end }}
{{- else if ne $a.mode "none" -}}
{{- fail (printf "services.%s.autoscaling.mode %q: use cpu, kafka-lag or none" .name $a.mode) -}}
{{- end -}}
{{- end }}
