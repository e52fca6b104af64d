{{/*
enforcement: who judges. "webhook" (the default) registers the webhook for everything, as the chart
always has. "policies" installs the admission policies `session-admission generate` wrote (the
API server evaluates them in process) and keeps only the webhook registrations they do not cover;
"both" installs the policies and keeps every webhook as a second line.

The chart cannot run `generate`: the policies come from policies.manifest (generate's output for
your policy, --set-file), else from files/policies/, generated from the chart's default `policy`
(tests/chart/generate-policies.sh writes them; tests/chart/test_policies.sh fails when they are
stale), one file per Kubernetes minor from which the output differs.
*/}}

{{/* The cluster's Kubernetes minor (helm template: --kube-version). */}}
{{- define "session-admission.kubeMinor" -}}
{{- (semver .Capabilities.KubeVersion.Version).Minor }}
{{- end }}

{{/* Whether enforcement includes the policies: "true" or "". */}}
{{- define "session-admission.policiesEnabled" -}}
{{- if has .Values.enforcement (list "policies" "both") }}true{{ end }}
{{- end }}

{{/*
The manifest the policies come from, as YAML text: {"source": ..., "text": ...}. Fails (one line)
on a changed policy without policies.manifest (the shipped files would judge by the chart's default
policy, not by the one the webhook server loads), or a cluster older than the oldest shipped file.
*/}}
{{- define "session-admission.policiesManifest" -}}
{{- $minor := include "session-admission.kubeMinor" . | int }}
{{- if .Values.policies.manifest }}
{{- $text := .Values.policies.manifest }}
{{- if not (hasPrefix "# session-admission generate:" $text) }}
{{- fail "policies.manifest is not the output of session-admission generate (it starts with \"# session-admission generate:\")" }}
{{- end }}
{{- $for := regexFind "for Kubernetes 1\\.[0-9]+\\." (first (splitList "\n" $text)) | trimPrefix "for Kubernetes 1." | trimSuffix "." }}
{{- if and $for (gt (int $for) $minor) }}
{{- fail (printf "policies.manifest was generated for Kubernetes 1.%s, this cluster is 1.%d: run generate with --kube-version 1.%d" $for $minor $minor) }}
{{- end }}
{{- dict "source" "policies.manifest" "text" $text | toJson }}
{{- else }}
{{- $want := .Files.Get "files/policies/policy.sha256" | trim }}
{{- if ne (sha256sum (toYaml .Values.policy)) $want }}
{{- fail (printf "enforcement=%s: policy is not the chart's default, for which files/policies/ were generated: give `session-admission generate --namespace %s` output for your policy in policies.manifest (--set-file)" .Values.enforcement .Release.Namespace) }}
{{- end }}
{{- $best := -1 }}
{{- $path := "" }}
{{- range $p, $_ := .Files.Glob "files/policies/k8s-1.*.yaml" }}
{{- $m := regexFind "[0-9]+\\.yaml$" $p | trimSuffix ".yaml" | int }}
{{- if and (le $m $minor) (gt $m $best) }}{{ $best = $m }}{{ $path = $p }}{{ end }}
{{- end }}
{{- if not $path }}
{{- fail (printf "enforcement=%s needs ValidatingAdmissionPolicy v1 (Kubernetes 1.30 or later); this cluster is 1.%d (helm template: pass --kube-version)" .Values.enforcement $minor) }}
{{- end }}
{{- dict "source" $path "text" (.Files.Get $path) | toJson }}
{{- end }}
{{- end }}

{{/*
Which webhook registrations the chart renders, as JSON:
  policies        the admission policies are installed
  mutatingPolicy  the apiVersion of the MutatingAdmissionPolicy installed, or "" (none in the
                  manifest, or the cluster does not serve its version: 1.33's v1alpha1 and
                  1.34's v1beta1 are off unless enabled; helm template: --api-versions)
  mutate          mutate-pods is registered
  pods, tokens    validate-pods and validate-unlabelled-pods, validate-tokens are registered
  rbac            the resources validate-rbac is registered for (rolebindings, roles)
  clusterRbac     the resources validate-cluster-rbac is registered for
  kinds           the kinds sent to the validating webhook (for the params ConfigMap's annotation)
  server          any webhook registration remains, so the webhook server is deployed
Under "policies" the validating registrations follow the manifest's "# webhook-only: RULE KINDS:
why" lines: a kind some rule still needs the webhook for stays registered, nothing else does. Two
of those lines name no policy rule: "mutation" (the mutation follows mutatingPolicy instead) and
"refused", the webhook's refusal of a NUL outside free text, which exists because the server's
C strings cannot hold one; CEL compares the very string the API server holds, so the policies
judge such a value as any other (a NUL-suffixed name is simply another name). "both" keeps them.
*/}}
{{- define "session-admission.webhookPlan" -}}
{{- $plan := dict "policies" false "mutatingPolicy" "" "mutate" true "pods" true "tokens" true
      "rbac" (list "rolebindings" "roles") "clusterRbac" (list "clusterrolebindings" "clusterroles") }}
{{- if include "session-admission.policiesEnabled" . }}
{{- $_ := set $plan "policies" true }}
{{- $text := (include "session-admission.policiesManifest" . | fromJson).text }}
{{- $map := regexFind "(?m)^apiVersion: \\S+\\nkind: MutatingAdmissionPolicy$" $text }}
{{- if $map }}
{{- $av := regexFind "^apiVersion: \\S+" $map | trimPrefix "apiVersion: " }}
{{- $ga := and (eq $av "admissionregistration.k8s.io/v1") (ge (include "session-admission.kubeMinor" . | int) 36) }}
{{- if or $ga (.Capabilities.APIVersions.Has (printf "%s/MutatingAdmissionPolicy" $av)) }}
{{- $_ := set $plan "mutatingPolicy" $av }}
{{- end }}
{{- end }}
{{- if eq .Values.enforcement "policies" }}
{{- $kinds := list }}
{{- range $line := regexFindAll "(?m)^# webhook-only: .*$" $text -1 }}
{{- $words := splitList " " (trimPrefix "# webhook-only: " $line) }}
{{- if or (lt (len $words) 2) (not (hasSuffix ":" (index $words 1))) }}
{{- fail (printf "cannot read the line %q of the policies' manifest (# webhook-only: RULE KINDS: why)" $line) }}
{{- end }}
{{- if not (has (index $words 0) (list "mutation" "refused")) }}
{{- $kinds = concat $kinds (splitList "," (trimSuffix ":" (index $words 1))) }}
{{- end }}
{{- end }}
{{- $known := list "Pod" "TokenRequest" "RoleBinding" "Role" "ClusterRoleBinding" "ClusterRole" }}
{{- range $k := $kinds }}
{{- if not (has $k $known) }}
{{- fail (printf "the policies' manifest leaves kind %s to the webhook, which this chart does not register for it: use enforcement=both" $k) }}
{{- end }}
{{- end }}
{{- $_ := set $plan "mutate" (not $plan.mutatingPolicy) }}
{{- $_ := set $plan "pods" (has "Pod" $kinds) }}
{{- $_ := set $plan "tokens" (has "TokenRequest" $kinds) }}
{{- $rbac := list }}
{{- if has "RoleBinding" $kinds }}{{ $rbac = append $rbac "rolebindings" }}{{ end }}
{{- if has "Role" $kinds }}{{ $rbac = append $rbac "roles" }}{{ end }}
{{- $_ := set $plan "rbac" $rbac }}
{{- $crbac := list }}
{{- if has "ClusterRoleBinding" $kinds }}{{ $crbac = append $crbac "clusterrolebindings" }}{{ end }}
{{- if has "ClusterRole" $kinds }}{{ $crbac = append $crbac "clusterroles" }}{{ end }}
{{- $_ := set $plan "clusterRbac" $crbac }}
{{- end }}
{{- end }}
{{- $w := .Values.webhook }}
{{- $kinds := list }}
{{- if $plan.pods }}{{ $kinds = append $kinds "Pod" }}{{ end }}
{{- if and $w.tokens.enabled $plan.tokens }}{{ $kinds = append $kinds "TokenRequest" }}{{ end }}
{{- if $w.rbac.enabled }}
{{- range $r := concat $plan.rbac $plan.clusterRbac }}
{{- $kinds = append $kinds (get (dict "rolebindings" "RoleBinding" "roles" "Role" "clusterrolebindings" "ClusterRoleBinding" "clusterroles" "ClusterRole") $r) }}
{{- end }}
{{- end }}
{{- $_ := set $plan "kinds" $kinds }}
{{- $_ := set $plan "server" (or $plan.mutate (gt (len $kinds) 0)) }}
{{- toJson $plan }}
{{- end }}

{{/* "true" when the webhook server is deployed (some webhook registration remains), else "". */}}
{{- define "session-admission.server" -}}
{{- if (include "session-admission.webhookPlan" . | fromJson).server }}true{{ end }}
{{- end }}

{{/*
The public key the policies read (their params ConfigMap), as JSON {"pem", "fingerprint", "from"},
exactly as the server and generate hold it (src/core/pubkey.c): the PEM re-encoded (64-character lines,
a final newline) and the SHA-256 of the DER SubjectPublicKeyInfo, so webhook and policies agree
byte for byte. From publicKey.pem, else from public.pem of publicKey.existingSecret read at install
(helm template and --dry-run cannot read a Secret: set publicKey.pem there).
*/}}
{{- define "session-admission.paramsKey" -}}
{{- $pem := .Values.publicKey.pem }}
{{- $from := "publicKey.pem" }}
{{- if not $pem }}
{{- $from = printf "public.pem of Secret %s/%s" .Release.Namespace .Values.publicKey.existingSecret }}
{{- $secret := lookup "v1" "Secret" .Release.Namespace .Values.publicKey.existingSecret }}
{{- $pem = index (default (dict) $secret.data) "public.pem" | default "" | b64dec }}
{{- if not $pem }}
{{- fail (printf "enforcement=%s puts the public key in the policies' params ConfigMap: the chart cannot read %s (helm template and --dry-run never can): set publicKey.pem" .Values.enforcement $from) }}
{{- end }}
{{- end }}
{{- if contains "PRIVATE KEY" $pem }}
{{- fail (printf "%s holds a private key: give only the PEM \"PUBLIC KEY\" (public.pem)" $from) }}
{{- end }}
{{- $block := regexFind "-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\\s]+-----END PUBLIC KEY-----" $pem }}
{{- $body := regexReplaceAll "-----[A-Z ]+-----|\\s" $block "" }}
{{- $der := b64dec $body }}
{{- if or (not $body) (ne (b64enc $der) $body) }}
{{- fail (printf "%s holds no readable PEM \"PUBLIC KEY\" block" $from) }}
{{- end }}
{{- $lines := regexFindAll ".{1,64}" (b64enc $der) -1 }}
{{- $canonical := printf "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" (join "\n" $lines) }}
{{- dict "pem" $canonical "fingerprint" (sha256sum $der) "from" $from | toJson }}
{{- end }}
