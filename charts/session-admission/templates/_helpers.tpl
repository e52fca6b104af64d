{{/* Chart name, cut to 63 characters (DNS label). */}}
{{- define "session-admission.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects; also the Service name the certificates are issued for. */}}
{{- define "session-admission.fullname" -}}
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

{{- define "session-admission.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "session-admission.labels" -}}
helm.sh/chart: {{ include "session-admission.chart" . }}
{{ include "session-admission.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "session-admission.selectorLabels" -}}
app.kubernetes.io/name: {{ include "session-admission.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "session-admission.serviceAccountName" -}}
{{- default (include "session-admission.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{- define "session-admission.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Secret holding tls.crt, tls.key and ca.crt, whichever way it is made. */}}
{{- define "session-admission.tlsSecretName" -}}
{{- if .Values.tls.existingSecret }}
{{- .Values.tls.existingSecret }}
{{- else }}
{{- printf "%s-tls" (include "session-admission.fullname" .) }}
{{- end }}
{{- end }}

{{/* DNS names the API server may use for the Service. */}}
{{- define "session-admission.dnsNames" -}}
{{- $svc := include "session-admission.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson }}
{{- end }}

{{/* The label that marks session pods: the policy's, so the objectSelector and the server agree. */}}
{{- define "session-admission.sessionLabel" -}}
{{- $sessions := default (dict) .Values.policy.sessions }}
{{- default "ambient-code.io/session-id" $sessions.label }}
{{- end }}

{{/*
Chart-generated TLS material as YAML (base64 values for a Secret's data). The Secret a previous
install or upgrade stored is looked up and reused, so `helm upgrade` does not rotate the CA under
running pods; only when it is missing or incomplete is a new CA and serving certificate made.
`helm template` and `--dry-run` cannot look up, so they always show freshly generated material.
*/}}
{{- define "session-admission.generatedTLS" -}}
{{- $stored := lookup "v1" "Secret" .Release.Namespace (include "session-admission.tlsSecretName" .) }}
{{- $data := default (dict) $stored.data }}
{{- if and (index $data "ca.crt") (index $data "tls.crt") (index $data "tls.key") }}
ca.crt: {{ index $data "ca.crt" }}
tls.crt: {{ index $data "tls.crt" }}
tls.key: {{ index $data "tls.key" }}
{{- else }}
{{- $svc := include "session-admission.fullname" . }}
{{- $ca := genCA (printf "%s-ca" $svc) (int .Values.tls.generated.caDays) }}
{{- $dns := include "session-admission.dnsNames" . | fromJsonArray }}
{{- $cert := genSignedCert (printf "%s.%s.svc" $svc .Release.Namespace) nil $dns (int .Values.tls.generated.certDays) $ca }}
ca.crt: {{ $ca.Cert | b64enc }}
tls.crt: {{ $cert.Cert | b64enc }}
tls.key: {{ $cert.Key | b64enc }}
{{- end }}
{{- end }}

{{/* Base64 caBundle for tls.existingSecret: tls.caBundle, else the Secret's own ca.crt. */}}
{{- define "session-admission.existingCABundle" -}}
{{- if .Values.tls.caBundle }}
{{- .Values.tls.caBundle | b64enc }}
{{- else }}
{{- $stored := lookup "v1" "Secret" .Release.Namespace .Values.tls.existingSecret }}
{{- $data := default (dict) $stored.data }}
{{- required (printf "tls.existingSecret %q has no ca.crt this chart can read (helm template cannot read Secrets): set tls.caBundle to the CA's PEM" .Values.tls.existingSecret) (index $data "ca.crt") }}
{{- end }}
{{- end }}

{{/* namespaceSelector shared by every webhook: never kube-system or the webhook's own namespace. */}}
{{- define "session-admission.namespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ concat (list "kube-system" .Release.Namespace) .Values.webhook.excludedNamespaces | uniq | toJson }}
{{- end }}

{{/*
Where the kubelet probes: the webhook port over TLS, which checks the very path the API server
uses; but when client certificates are required the kubelet (which presents none) would be
refused, so then the plain-HTTP metrics listener, which serves /healthz and /readyz too.
*/}}
{{- define "session-admission.probeEndpoint" -}}
{{- if .Values.clientAuth.enabled -}}
port: metrics
scheme: HTTP
{{- else -}}
port: https
scheme: HTTPS
{{- end -}}
{{- end -}}
