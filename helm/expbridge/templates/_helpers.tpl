{{/* Chart name, truncated to the 63-character DNS label limit. */}}
{{- define "expbridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: <release>-<chart>, unless the release name already has it. */}}
{{- define "expbridge.fullname" -}}
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

{{/* Per-component names (suffix kept when the prefix is truncated). */}}
{{- define "expbridge.web.fullname" -}}
{{- printf "%s-web" (include "expbridge.fullname" . | trunc 59 | trimSuffix "-") }}
{{- end }}
{{- define "expbridge.worker.fullname" -}}
{{- printf "%s-worker" (include "expbridge.fullname" . | trunc 56 | trimSuffix "-") }}
{{- end }}
{{- define "expbridge.redis.fullname" -}}
{{- printf "%s-redis" (include "expbridge.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}

{{- define "expbridge.sandbox.fullname" -}}
{{- printf "%s-sandbox" (include "expbridge.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{/* "true" when provider credentials are (or may be) given: an existingSecret, or secrets.*. */}}
{{- define "expbridge.providerCredentials" -}}
{{- $s := .Values.secrets }}
{{- if or .Values.existingSecret $s.qonversionSecretKey $s.convertAppId $s.convertAppSecret }}true{{ end }}
{{- end }}

{{/* "true" when the sandbox is deployed: sandbox.enabled, or when unset, no credentials. */}}
{{- define "expbridge.sandbox.enabled" -}}
{{- $enabled := .Values.sandbox.enabled }}
{{- if kindIs "invalid" $enabled }}
{{- if not (include "expbridge.providerCredentials" .) }}true{{ end }}
{{- else if $enabled }}true{{ end }}
{{- end }}

{{- define "expbridge.sandbox.url" -}}
{{- printf "http://%s:%d" (include "expbridge.sandbox.fullname" .) (int .Values.sandbox.service.port) }}
{{- end }}

{{- define "expbridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "expbridge.labels" -}}
helm.sh/chart: {{ include "expbridge.chart" . }}
{{ include "expbridge.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: expbridge
{{- end }}

{{- define "expbridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "expbridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Component labels: call with (dict "ctx" $ "component" "web"). */}}
{{- define "expbridge.componentLabels" -}}
{{ include "expbridge.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- define "expbridge.componentSelectorLabels" -}}
{{ include "expbridge.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "expbridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "expbridge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The application image: repository@digest, or repository:tag (tag defaults to appVersion). */}}
{{- define "expbridge.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the credentials: the user's, or the one this chart creates. */}}
{{- define "expbridge.secretName" -}}
{{- default (include "expbridge.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* One env var from a Secret key; optional, so a missing key leaves the variable unset. */}}
{{- define "expbridge.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "expbridge.secretName" .ctx }}
      key: {{ .key }}
      optional: true
{{- end }}

{{/* Redis connection for the application: bundled URL, external URL, or Sentinel. */}}
{{- define "expbridge.redisEnv" -}}
{{- $redis := .Values.redis }}
{{- if $redis.bundled.enabled }}
- name: EXPBRIDGE_REDIS_URL
  value: {{ printf "redis://%s:%d/0" (include "expbridge.redis.fullname" .) (int $redis.bundled.service.port) | quote }}
{{- else if $redis.external.url }}
- name: EXPBRIDGE_REDIS_URL
  value: {{ $redis.external.url | quote }}
{{- else }}
- name: EXPBRIDGE_REDIS_SENTINELS
  value: {{ include "expbridge.sentinelList" . | quote }}
- name: EXPBRIDGE_REDIS_SENTINEL_MASTER
  value: {{ $redis.external.sentinelMaster | quote }}
{{- end }}
{{ include "expbridge.secretEnv" (dict "ctx" . "name" "EXPBRIDGE_REDIS_PASSWORD" "key" .Values.secretKeys.redisPassword) }}
{{- end }}

{{/* Sentinels as "host:port,host:port" (a list or an already comma-separated string). */}}
{{- define "expbridge.sentinelList" -}}
{{- $s := .Values.redis.external.sentinels }}
{{- if kindIs "string" $s }}{{ $s }}{{ else }}{{ join "," $s }}{{ end }}
{{- end }}

{{/* Environment shared by web and worker. */}}
{{- define "expbridge.env" -}}
{{- $s := .Values.settings }}
- name: EXPBRIDGE_HOST
  value: "0.0.0.0"
- name: EXPBRIDGE_PORT
  value: {{ .Values.web.containerPort | quote }}
- name: EXPBRIDGE_DATA_DIR
  value: /tmp/expbridge
- name: EXPBRIDGE_WORKER__METRICS_PORT
  value: {{ .Values.worker.metricsPort | quote }}
- name: EXPBRIDGE_WORKER__SHUTDOWN_WAIT_S
  value: {{ .Values.worker.shutdownWaitSeconds | quote }}
{{- if .Values.config }}
- name: EXPBRIDGE_CONFIG
  value: /etc/expbridge/config.yaml
{{- end }}
{{- if include "expbridge.sandbox.enabled" . }}
- name: EXPBRIDGE_SANDBOX_URL
  value: {{ include "expbridge.sandbox.url" . | quote }}
{{- end }}
{{- range $var, $value := dict "EXPBRIDGE_LOG_FORMAT" $s.logFormat "EXPBRIDGE_LOG_LEVEL" $s.logLevel "EXPBRIDGE_QONVERSION__BASE_URL" $s.qonversion.baseUrl "EXPBRIDGE_CONVERT__API_VERSION" $s.convert.apiVersion "EXPBRIDGE_CONVERT__BASE_URL" $s.convert.baseUrl "EXPBRIDGE_CONVERT__ACCOUNT_ID" $s.convert.accountId }}
{{- if $value }}
- name: {{ $var }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- include "expbridge.redisEnv" . }}
{{- $k := .Values.secretKeys }}
{{- range $var, $key := dict "EXPBRIDGE_ADMIN_TOKEN" $k.adminToken "EXPBRIDGE_SOURCES" $k.sources "EXPBRIDGE_QONVERSION__SECRET_KEY" $k.qonversionSecretKey "EXPBRIDGE_CONVERT__APP_ID" $k.convertAppId "EXPBRIDGE_CONVERT__APP_SECRET" $k.convertAppSecret "EXPBRIDGE_SLACK__SIGNING_SECRET" $k.slackSigningSecret "EXPBRIDGE_METRICS_TOKEN" $k.metricsToken }}
{{ include "expbridge.secretEnv" (dict "ctx" $ "name" $var "key" $key) }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod annotations that roll the pods when the config (or the chart-managed Secret) changes. */}}
{{- define "expbridge.checksumAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/* Volumes shared by web and worker: a writable /tmp and the config file. */}}
{{- define "expbridge.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
- name: config
  configMap:
    name: {{ include "expbridge.fullname" . }}
{{- end }}

{{- define "expbridge.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: config
  mountPath: /etc/expbridge
  readOnly: true
{{- end }}

{{/* Worker grace period: shutdownWaitSeconds + 15 unless set; must exceed the wait. */}}
{{- define "expbridge.worker.terminationGracePeriodSeconds" -}}
{{- $wait := float64 .Values.worker.shutdownWaitSeconds }}
{{- $grace := .Values.worker.terminationGracePeriodSeconds }}
{{- if kindIs "invalid" $grace }}
{{- $grace = addf $wait 15 }}
{{- end }}
{{- if le (float64 $grace) $wait }}
{{- fail (printf "worker.terminationGracePeriodSeconds (%v) must be longer than worker.shutdownWaitSeconds (%v): Kubernetes would SIGKILL workers before they finish their running jobs. Leave it unset to get shutdownWaitSeconds + 15." $grace .Values.worker.shutdownWaitSeconds) }}
{{- end }}
{{- int (ceil (float64 $grace)) }}
{{- end }}

{{/* Render-time checks: fail early with one clear message. */}}
{{- define "expbridge.validate" -}}
{{- $ext := .Values.redis.external }}
{{- $external := or $ext.url $ext.sentinels }}
{{- if and .Values.redis.bundled.enabled $external }}
{{- fail "redis: choose exactly one mode — either redis.bundled.enabled=true, or redis.external.url / redis.external.sentinels (then set redis.bundled.enabled=false)" }}
{{- end }}
{{- if not (or .Values.redis.bundled.enabled $external) }}
{{- fail "redis: no Redis configured — set redis.external.url, redis.external.sentinels, or redis.bundled.enabled=true" }}
{{- end }}
{{- if and $ext.url $ext.sentinels }}
{{- fail "redis.external: set either url or sentinels, not both" }}
{{- end }}
{{- if and $ext.sentinels (not $ext.sentinelMaster) }}
{{- fail "redis.external.sentinelMaster is required with redis.external.sentinels" }}
{{- end }}
{{- if not (has (toString .Values.settings.convert.apiVersion) (list "v1" "v2")) }}
{{- fail "settings.convert.apiVersion must be v1 or v2" }}
{{- end }}
{{- if and (kindIs "map" .Values.config) (kindIs "map" .Values.config.sources) }}
{{- range $name, $source := .Values.config.sources }}
{{- if and (kindIs "map" $source) (or (hasKey $source "token") (hasKey $source "webhook_secret")) }}
{{- fail (printf "config.sources.%s holds a credential: put source tokens and webhook secrets in secrets.sources (or the existingSecret's sources-json key), never in the ConfigMap" $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- range $role := list "web" "worker" }}
{{- $as := (get $.Values $role).autoscaling }}
{{- if and $as.enabled (not (or $as.targetCPUUtilizationPercentage $as.targetMemoryUtilizationPercentage)) }}
{{- fail (printf "%s.autoscaling: set targetCPUUtilizationPercentage and/or targetMemoryUtilizationPercentage" $role) }}
{{- end }}
{{- end }}
{{- if not (or (include "expbridge.sandbox.enabled" .) (include "expbridge.providerCredentials" .)) }}
{{- fail (printf "sandbox.enabled=false but no provider credentials are given: workers would call a sandbox that is not deployed. Set secrets.qonversionSecretKey and/or secrets.convertAppId + secrets.convertAppSecret (the Secret keys %s, %s, %s), or existingSecret naming a Secret that holds them; or leave sandbox.enabled unset to evaluate against the bundled sandbox" .Values.secretKeys.qonversionSecretKey .Values.secretKeys.convertAppId .Values.secretKeys.convertAppSecret) }}
{{- end }}
{{- $_ := include "expbridge.worker.terminationGracePeriodSeconds" . }}
{{- end }}
