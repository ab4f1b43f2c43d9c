{{/* Full name: the release name, with the chart name appended unless already contained. */}}
{{- define "rca-agent.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rca-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "rca-agent.labels" -}}
{{ include "rca-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "rca-agent.serviceAccountName" -}}
{{- default (include "rca-agent.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "rca-agent.secretName" -}}
{{- default (include "rca-agent.fullname" .) .Values.agent.existingSecret -}}
{{- end -}}

{{/* Fails the render early with a clear message instead of deploying an agent that cannot start. */}}
{{- define "rca-agent.validate" -}}
{{- if not (has .Values.scope (list "namespace" "cluster")) -}}
{{- fail (printf "scope must be \"namespace\" or \"cluster\", got %q" (toString .Values.scope)) -}}
{{- end -}}
{{- if and (not .Values.agent.existingSecret) (not .Values.agent.token) -}}
{{- fail "agent.token (an enrollment token) or agent.existingSecret is required" -}}
{{- end -}}
{{- if not .Values.agent.natsUrl -}}
{{- fail "agent.natsUrl is required" -}}
{{- end -}}
{{- end -}}

{{/* repository:tag (tag defaults to appVersion); a repository pinned by digest (…@sha256:…) is used as is. */}}
{{- define "rca-agent.image" -}}
{{- if contains "@" .Values.image.repository -}}
{{- .Values.image.repository -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion (toString .Values.image.tag)) -}}
{{- end -}}
{{- end -}}
