{{/* Names and labels shared by every template. */}}
{{- define "aijob.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aijob.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "aijob.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "aijob.image" -}}
{{- $registry := .root.Values.image.registry -}}
{{- if $registry -}}{{ $registry }}/{{- end -}}{{ .repository }}:{{ .root.Values.image.tag }}
{{- end -}}

{{- define "aijob.apiKeysSecret" -}}
{{- default .Values.apiKeys.secretName .Values.apiKeys.existingSecret -}}
{{- end -}}

{{/* The gateway's scheme: HTTPS with gateway.tls.secretName, else HTTP. */}}
{{- define "aijob.gatewayScheme" -}}
{{- if .Values.gateway.tls.secretName }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}
