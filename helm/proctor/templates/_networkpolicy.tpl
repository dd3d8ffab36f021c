{{/* What one service may talk to: its clients, Prometheus, its callers in, and DNS, Kafka, PostgreSQL,
object storage and the services it calls out. Everything else is denied by networkpolicy.yaml. */}}
{{- define "proctor.networkPolicy" -}}
{{- $c := .root.Values.common -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "proctor.fullname" . }}
  labels:
    {{- include "proctor.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "proctor.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        {{- include "proctor.peers" (dict "root" .root "name" .name "peer" "prometheus") | nindent 8 }}
      ports:
        - {port: metrics, protocol: TCP}
    {{- if .svc.clientFacing }}
    - from:
        {{- include "proctor.peers" (dict "root" .root "name" .name "peer" "clients") | nindent 8 }}
      ports:
        - {port: grpc, protocol: TCP}
        {{- if .svc.httpPort }}
        - {port: http, protocol: TCP}
        {{- end }}
    {{- end }}
    {{- range $caller, $other := .root.Values.services }}
    {{- if and $other.enabled (has $.name (values $other.calls)) }}
    - from:
        - podSelector:
            matchLabels:
              {{- include "proctor.selectorLabels" (dict "root" $.root "name" $caller) | nindent 14 }}
      ports:
        - {port: grpc, protocol: TCP}
    {{- end }}
    {{- end }}
  egress:
    - to:
        {{- include "proctor.peers" (dict "root" .root "name" .name "peer" "dns") | nindent 8 }}
      ports:
        {{- include "proctor.ports" (dict "root" .root "peer" "dns") | nindent 8 }}
    - to:
        {{- include "proctor.peers" (dict "root" .root "name" .name "peer" "kafka") | nindent 8 }}
      ports:
        {{- include "proctor.ports" (dict "root" .root "peer" "kafka") | nindent 8 }}
    {{- if .svc.database }}
    - to:
        {{- include "proctor.peers" (dict "root" .root "name" .name "peer" "postgres") | nindent 8 }}
      ports:
        {{- include "proctor.ports" (dict "root" .root "peer" "postgres") | nindent 8 }}
    {{- end }}
    {{- if .svc.objectStorage }}
    - to:
        {{- include "proctor.peers" (dict "root" .root "name" .name "peer" "objectStorage") | nindent 8 }}
      ports:
        {{- include "proctor.ports" (dict "root" .root "peer" "objectStorage") | nindent 8 }}
    {{- end }}
    {{- range $setting, $target := .svc.calls }}
    {{- if not (index $.root.Values.services $target) }}
    {{- fail (printf "services.%s.calls.%s names %q, which is not a service of this chart" $.name $setting $target) }}
    {{- end }}
    - to:
        - podSelector:
            matchLabels:
              {{- include "proctor.selectorLabels" (dict "root" $.root "name" $target) | nindent 14 }}
      ports:
        - {port: {{ $c.grpcPort }}, protocol: TCP}
    {{- end }}
{{- end }}
