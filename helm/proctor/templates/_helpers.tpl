{{/* Names and the app.kubernetes.io labels. Service helpers take a context made by "proctor.ctx". */}}

{{- define "proctor.chart" -}}
{{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "proctor.commonLabels" -}}
helm.sh/chart: {{ include "proctor.chart" . }}
app.kubernetes.io/name: proctor
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: proctor
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "proctor.releaseSelector" -}}
app.kubernetes.io/name: proctor
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The context of one service: root, name (map key), svc (its values). */}}
{{- define "proctor.fullname" -}}
{{ printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "proctor.selectorLabels" -}}
{{ include "proctor.releaseSelector" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "proctor.labels" -}}
{{ include "proctor.commonLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "proctor.image" -}}
{{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The network peers named by "peer" (a key of networkPolicy.peers); fails when none are configured. */}}
{{- define "proctor.peers" -}}
{{- $peers := index .root.Values.networkPolicy.peers .peer -}}
{{- if not $peers -}}
{{- fail (printf "networkPolicy.peers.%s is empty but %s needs it (an empty list would allow every peer)" .peer .name) -}}
{{- end -}}
{{ toYaml $peers }}
{{- end }}

{{- define "proctor.ports" -}}
{{- range $port := index .root.Values.networkPolicy.ports .peer }}
- port: {{ $port }}
  protocol: TCP
{{- if eq $.peer "dns" }}
- port: {{ $port }}
  protocol: UDP
{{- end }}
{{- end }}
{{- end }}

{{/* Partitions of a topic in production: kafka.topics.partitions, else files/topics.yaml. */}}
{{- define "proctor.partitions" -}}
{{- $topic := .topic -}}
{{- $count := 0 -}}
{{- range (.root.Files.Get "files/topics.yaml" | fromYaml).topics -}}
{{- if eq .name $topic -}}{{- $count = .partitions -}}{{- end -}}
{{- end -}}
{{- if not $count -}}{{- fail (printf "unknown topic %s (not in files/topics.yaml)" $topic) -}}{{- end -}}
{{ index .root.Values.kafka.topics.partitions $topic | default $count }}
{{- end }}
