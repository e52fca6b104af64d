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

{{/* Whether the cluster has webhook matchConditions (beta and on by default from Kubernetes 1.28,
GA in 1.30). `helm template` takes the version from --kube-version. */}}
{{- define "session-admission.matchConditions" -}}
{{- if semverCompare ">=1.28-0" .Capabilities.KubeVersion.Version }}true{{ end }}
{{- end }}

{{/*
The policy's exempt table with the server's defaults for absent keys (examples/policy.yaml), so
the matchConditions skip exactly the requests the server exempts by who asks.
*/}}
{{- define "session-admission.exempt" -}}
{{- $exempt := default (dict) .Values.policy.exempt }}
{{- $out := dict "objectLabels" (dict "kubernetes.io/bootstrapping" "rbac-defaults") "bootstrapUsers" (list "system:apiserver") "aggregationUsers" (list "system:serviceaccount:kube-system:clusterrole-aggregation-controller" "system:kube-controller-manager") }}
{{- range $k := list "objectLabels" "bootstrapUsers" "aggregationUsers" }}
{{- if hasKey $exempt $k }}{{ $_ := set $out $k (index $exempt $k) }}{{ end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/* CEL: the object .obj ("object", "oldObject") carries every one of .labels with its value;
"false" for no labels, as the server never exempts on an empty label set. A missing key is tested
with "in" first (indexing it would be an evaluation error); toJson writes valid CEL strings. */}}
{{- define "session-admission.labelsCEL" -}}
{{- $labels := printf "%s.metadata.labels" .obj }}
{{- $parts := list (printf "has(%s)" $labels) }}
{{- range $k, $v := .labels }}
{{- $parts = append $parts (printf "%s in %s && %s[%s] == %s" (toJson $k) $labels $labels (toJson $k) (toJson $v)) }}
{{- end }}
{{- if .labels }}{{ join " && " $parts }}{{ else }}false{{ end }}
{{- end }}

{{/* The globs of bindings.sessionServiceAccounts as a JSON list, as the server reads them: a
string or a list; absent, the names the template forms ({id} read as "*"). */}}
{{- define "session-admission.sessionGlobs" -}}
{{- $policy := default (dict) .Values.policy }}
{{- $bindings := default (dict) $policy.bindings }}
{{- if hasKey $bindings "sessionServiceAccounts" }}
{{- $v := $bindings.sessionServiceAccounts }}
{{- if kindIs "string" $v }}{{ toJson (list $v) }}{{ else }}{{ toJson $v }}{{ end }}
{{- else }}
{{- $sessions := default (dict) $policy.sessions }}
{{- $sa := default (dict) $sessions.serviceAccount }}
{{- toJson (list (replace "{id}" "*" (default "session-{id}-sa" $sa.template))) }}
{{- end }}
{{- end }}

{{/* CEL: the pod runs as a session ServiceAccount, by the globs the server judges
(session-admission.sessionGlobs), so the two can never disagree on which pods are sessions'. An
exact name is compared; a glob becomes an anchored RE2 pattern for matches(), character by
character as fnmatch(3) reads it: "*" any run, "?" one character, "\x" the character x, anything
else itself (regexQuoteMeta). A bracket expression has no faithful translation here: refused.
The API server's v1 conversion always fills spec.serviceAccountName (from the deprecated
serviceAccount too). */}}
{{- define "session-admission.sessionSACEL" -}}
{{- $name := "object.spec.serviceAccountName" }}
{{- $tests := list }}
{{- range $glob := include "session-admission.sessionGlobs" . | fromJsonArray }}
{{- $glob = toString $glob }}
{{- if contains "[" $glob }}
{{- fail (printf "policy.bindings.sessionServiceAccounts %q: a bracket expression ([...]) cannot be turned into the chart's pod matchCondition; list the names with * and ? instead" $glob) }}
{{- end }}
{{- if not (regexMatch "[*?\\\\]" $glob) }}
{{- $tests = append $tests (printf "%s == %s" $name (toJson $glob)) }}
{{- else }}
{{- $re := "" }}
{{- $escaped := false }}
{{- range $c := splitList "" $glob }}
{{- if $escaped }}{{ $re = print $re (regexQuoteMeta $c) }}{{ $escaped = false }}
{{- else if eq $c "\\" }}{{ $escaped = true }}
{{- else if eq $c "*" }}{{ $re = print $re ".*" }}
{{- else if eq $c "?" }}{{ $re = print $re "." }}
{{- else }}{{ $re = print $re (regexQuoteMeta $c) }}
{{- end }}
{{- end }}
{{- $tests = append $tests (printf "%s.matches(%s)" $name (toJson (printf "^%s$" $re))) }}
{{- end }}
{{- end -}}
has({{ $name }}) && ({{ if $tests }}{{ join " || " $tests }}{{ else }}false{{ end }})
{{- end }}

{{/* The RBAC webhooks' matchConditions: the requests the server exempts by who asks are never
sent, so the API server's bootstrap and the aggregation controller never wait on the webhook. */}}
{{- define "session-admission.rbacMatchConditions" -}}
{{- $exempt := include "session-admission.exempt" . | fromJson -}}
matchConditions:
  - name: not-cluster-bootstrap
    expression: >-
      !(request.userInfo.username in {{ toJson $exempt.bootstrapUsers }} &&
      "system:masters" in request.userInfo.groups &&
      {{ include "session-admission.labelsCEL" (dict "obj" "object" "labels" $exempt.objectLabels) }})
  - name: not-role-aggregation
    expression: >-
      !(request.userInfo.username in {{ toJson $exempt.aggregationUsers }} &&
      request.operation == "UPDATE" && request.kind.kind == "ClusterRole" &&
      !(object.metadata.name in {{ include "session-admission.guardedClusterRoles" . }}) &&
      {{ include "session-admission.labelsCEL" (dict "obj" "oldObject" "labels" $exempt.objectLabels) }})
{{- end }}

{{/* JSON list: the ClusterRoles the server guards (sessions, nodes or everyone hold them: the
ClusterRole rows of bindings.allowedRoles, the ClusterRoles of bindings.everyoneRoles, the roles of audiences), whose
writes by the aggregation controller the server judges grant by grant, so they must be sent. */}}
{{- define "session-admission.guardedClusterRoles" -}}
{{- $policy := default (dict) .Values.policy }}
{{- $bindings := default (dict) $policy.bindings }}
{{- $names := list }}
{{- range $row := default (list) $bindings.allowedRoles }}
{{- if eq (toString $row.kind) "ClusterRole" }}{{ $names = append $names (toString $row.name) }}{{ end }}
{{- end }}
{{- range $name := default (list) $bindings.everyoneRoles }}
{{- if not (contains "/" (toString $name)) }}{{ $names = append $names (toString $name) }}{{ end }}{{/* "<ns>/<name>" is a Role */}}
{{- end }}
{{- range $row := default (list) $policy.audiences }}
{{- range $role := default (list) $row.roles }}{{ $names = append $names (toString $role) }}{{ end }}
{{- end }}
{{- toJson (uniq $names) }}
{{- end }}

{{/* failurePolicy of the webhook for pods without the session label: the value, else Fail
where matchConditions narrow it to pods running as a session ServiceAccount, Ignore where it sees
every pod of every selected namespace. */}}
{{- define "session-admission.unlabelledPodsFailurePolicy" -}}
{{- if .Values.webhook.pods.unlabelled.failurePolicy }}{{ .Values.webhook.pods.unlabelled.failurePolicy }}
{{- else if include "session-admission.matchConditions" . }}Fail
{{- else }}Ignore
{{- end }}
{{- end }}
