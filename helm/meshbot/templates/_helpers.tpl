{{/* Names and labels. */}}
{{- define "meshbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "meshbot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "meshbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meshbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "meshbot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "meshbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "meshbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "meshbot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "meshbot.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret holding the Slack tokens: the user's, or the chart-created one. */}}
{{- define "meshbot.slackSecretName" -}}
{{- default (printf "%s-slack" (include "meshbot.fullname" .)) .Values.slack.existingSecret }}
{{- end }}

{{/* "true" when the bot talks to an external database (PostgreSQL) rather than the SQLite file. */}}
{{- define "meshbot.externalDatabase" -}}
{{- if or .Values.database.existingSecret (and .Values.database.url (not (hasPrefix "sqlite" .Values.database.url))) -}}
true
{{- end }}
{{- end }}

{{- define "meshbot.leaderElection" -}}
{{- $mode := .Values.leaderElection.enabled -}}
{{- if eq (toString $mode) "auto" -}}
{{- ternary "true" "false" (gt (int .Values.replicaCount) 1) -}}
{{- else -}}
{{- ternary "true" "false" (eq (toString $mode) "true") -}}
{{- end }}
{{- end }}

{{- define "meshbot.leaseName" -}}
{{- default (include "meshbot.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* Refuse settings that cannot work, with a message that says what to change. */}}
{{- define "meshbot.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "meshbot.externalDatabase" .)) }}
{{- fail (printf "replicaCount=%d needs PostgreSQL: SQLite allows a single writer. Set database.url (e.g. postgresql+psycopg://user@host:5432/meshbot) or database.existingSecret, or use replicaCount=1." (int .Values.replicaCount)) }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (eq (include "meshbot.leaderElection" .) "false") }}
{{- fail "replicaCount > 1 needs leaderElection.enabled (auto or true): otherwise every replica runs the schedules and digests are posted twice." }}
{{- end }}
{{- if and .Values.networkPolicy.enabled (not .Values.networkPolicy.apiServerCIDRs) }}
{{- fail "networkPolicy.enabled needs networkPolicy.apiServerCIDRs: the API server's addresses as CIDRs (kubectl get endpoints kubernetes -n default -o jsonpath='{.subsets[*].addresses[*].ip}', each as IP/32)." }}
{{- end }}
{{- if and .Values.ingress.enabled (ne .Values.mode "http") }}
{{- fail "ingress.enabled is only for mode=http (Socket Mode needs no ingress)." }}
{{- end }}
{{- end }}

{{/* A security context from values; on OpenShift the platform assigns the user and group ids. */}}
{{- define "meshbot.securityContext" -}}
{{- $context := deepCopy .context }}
{{- if .openshift }}
{{- range list "runAsUser" "runAsGroup" "fsGroup" }}
{{- $_ := unset $context . }}
{{- end }}
{{- end }}
{{- toYaml $context }}
{{- end }}

{{- define "meshbot.pdbEnabled" -}}
{{- $mode := .Values.podDisruptionBudget.enabled -}}
{{- if eq (toString $mode) "auto" -}}
{{- ternary "true" "" (gt (int .Values.replicaCount) 1) -}}
{{- else if eq (toString $mode) "true" -}}
true
{{- end }}
{{- end }}

{{/* A map as "k1=v1,k2=v2" (sep "="), in the map's key order as Helm gives it (sorted). */}}
{{- define "meshbot.pairs" -}}
{{- $sep := .sep }}
{{- $pairs := list }}
{{- range $key, $value := .map }}
{{- $pairs = append $pairs (printf "%s%s%s" $key $sep $value) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}
