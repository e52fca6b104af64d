// vap_eval.mjs: evaluates ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1) offline,
// as kube-apiserver's ValidatingAdmissionPolicy plugin would, with an independent CEL
// implementation (@marcbachmann/cel-js, installed by .ci/setup into .tools/npm).
//
// Why: `session-admission generate` compiles the policy file into VAPs whose CEL must decide
// exactly as the C core does; differential.py feeds both the same AdmissionReviews and compares.
// This file is the "API server" half of that comparison, so it follows the Kubernetes sources
// (staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/{validating,matching,generic} and
// webhook/predicates/{rules,namespace,object}) rather than anything session-admission says:
//   - matching: spec.matchConstraints and the binding's spec.matchResources (namespaceSelector,
//     objectSelector against object OR oldObject labels, resourceRules with "res/sub" and "*",
//     operations, scope, resourceNames; excludeResourceRules); exact matchPolicy only (the judged
//     kinds have one version each, so Equivalent adds nothing here);
//   - params: paramKind + paramRef (name or selector, namespace defaulting to the request's,
//     parameterNotFoundAction), looked up among the generated documents; one evaluation per param;
//   - matchConditions (a false one skips the policy even when another errors; errors follow
//     failurePolicy), variables (lazy, each sees only earlier ones), validations (message from
//     messageExpression when it yields a non-empty single-line string, else message, else
//     "failed expression: ..."), auditAnnotations (an error denies under Fail);
//   - CEL inputs: object and oldObject as the API server decodes them (null members dropped, a
//     role's missing rules null: see typedValue; JSON integers as CEL ints), request as
//     cel.CreateAdmissionRequest builds it (omitempty fields absent), params, namespaceObject
//     (the Namespace for namespaced requests: the review's test-only top-level
//     "namespaceObject", else a Namespace document, else a fresh one carrying only
//     kubernetes.io/metadata.name; null in matchConditions, as the matcher passes none).
// Not emulated: compile-time type checking against OpenAPI schemas (a misspelt field is a
// runtime "No such key" here, a compile error there: both are errors), cost budgets, the
// authorizer variable, and the Kubernetes CEL libraries cel-js lacks: regex find/findAll, ext
// strings format/quote, the lists library's isSorted/sum/min/max and cel-go's ext lists
// (slice, flatten, distinct, sort...), two-variable comprehensions (all(i, v, p),
// transformList, transformMap), url, ip, cidr, quantity, semver, base64 and math. Known
// differences of cel-js itself: matches() takes JavaScript regular expressions, not RE2 (no
// (?i), no [[:alpha:]]); lowerAscii/upperAscii change non-ASCII letters too; has() on a null
// value is false where cel-go errors. The few simple functions added below are marked.
//
// usage: node vap_eval.mjs [PATH-TO-cel-js/lib/index.js] < input.json > output.json
// stdin:  {"docs": [every object of the generated stream], "reviews": [AdmissionReview, ...]}
// stdout: [{"uid": ..., "policies": [{"policy", "binding", "rule", "matched", "reason",
//           "violations": [...], "errors": [...], "ignoredErrors": [...], "failed": [...],
//           "auditAnnotations": {...}, "actions": [...]}]}], one entry per review, in order.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const libPath = process.argv[2] || process.env.CEL_JS ||
  path.join(here, '..', '..', '.tools', 'npm', 'node_modules', '@marcbachmann', 'cel-js', 'lib', 'index.js')
const { Environment, EvaluationError } = await import(pathToFileURL(libPath).href)

const RULE_ANNOTATION = 'session-admission.ambient-code.io/rule'
const NS_NAME_LABEL = 'kubernetes.io/metadata.name'
// validating/message.go: celconfig.MaxEvaluatedMessageExpressionSizeBytes
const MAX_MESSAGE_BYTES = 5 * 1024

// ---- CEL environments ---------------------------------------------------------------------

// CEL equality for JSON-shaped values (ints are BigInt, doubles Number), as cel-go's
// heterogeneous equality: 1 == 1.0, different kinds are unequal.
function celEqual(a, b) {
  const num = (x) => typeof x === 'bigint' || typeof x === 'number'
  if (num(a) && num(b)) return typeof a === typeof b ? a === b : Number(a) === Number(b)
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => celEqual(x, b[i]))
  const ka = Object.keys(a), kb = Object.keys(b)
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && celEqual(a[k], b[k]))
}

function celError(msg) {
  return new EvaluationError(msg)
}

// Code points, as cel-go's strings library counts them.
const chars = (s) => Array.from(s)

// Go's strings.Replace(s, old, new, n) on code points (n < 0: every occurrence).
function goReplace(s, from, to, n) {
  if (n === 0n) return s
  let limit = n < 0n ? Infinity : Number(n)
  if (from === '') {
    const cs = chars(s)
    let out = ''
    for (let i = 0; i <= cs.length; i++) {
      if (limit > 0) { out += to; limit-- }
      if (i < cs.length) out += cs[i]
    }
    return out
  }
  let out = '', rest = s
  while (limit > 0) {
    const at = rest.indexOf(from)
    if (at < 0) break
    out += rest.slice(0, at) + to
    rest = rest.slice(at + from.length)
    limit--
  }
  return out + rest
}

class SetsNamespace {}

// Functions of the Kubernetes CEL environment cel-js does not have, added where their meaning is
// simple and exact: cel-go ext strings replace/charAt/reverse, the Kubernetes lists library's
// indexOf/lastIndexOf, and the sets library. Everything else missing stays missing, so an
// expression using it errors here instead of being judged by a guess.
function addKubernetesFunctions(env) {
  env.registerFunction('string.replace(string, string): string', (s, a, b) => goReplace(s, a, b, -1n))
  env.registerFunction('string.replace(string, string, int): string', (s, a, b, n) => goReplace(s, a, b, n))
  env.registerFunction('string.charAt(int): string', (s, i) => {
    const cs = chars(s)
    if (i < 0n || i > BigInt(cs.length)) throw celError(`index out of range: ${i}`)
    return i === BigInt(cs.length) ? '' : cs[Number(i)]
  })
  env.registerFunction('string.reverse(): string', (s) => chars(s).reverse().join(''))
  env.registerFunction('list.indexOf(dyn): int', (l, x) => BigInt(l.findIndex((y) => celEqual(x, y))))
  env.registerFunction('list.lastIndexOf(dyn): int', (l, x) => {
    for (let i = l.length - 1; i >= 0; i--) if (celEqual(x, l[i])) return BigInt(i)
    return -1n
  })
  env.registerType('SetsNamespace', SetsNamespace)
  env.registerConstant('sets', 'SetsNamespace', new SetsNamespace())
  const has = (l, x) => l.some((y) => celEqual(x, y))
  env.registerFunction('SetsNamespace.contains(list, list): bool', (_, a, b) => b.every((x) => has(a, x)))
  env.registerFunction('SetsNamespace.equivalent(list, list): bool',
    (_, a, b) => b.every((x) => has(a, x)) && a.every((x) => has(b, x)))
  env.registerFunction('SetsNamespace.intersects(list, list): bool', (_, a, b) => b.some((x) => has(a, x)))
  return env
}

function newEnv() {
  // Kubernetes' base environment has optional types and homogeneous aggregate literals.
  const env = new Environment({ enableOptionalTypes: true })
  for (const v of ['object', 'oldObject', 'request', 'params', 'namespaceObject', 'variables'])
    env.registerVariable(v, 'dyn')
  return addKubernetesFunctions(env)
}

const ENV = newEnv()
const compiled = new Map() // expression text -> {fn} | {error}

function compile(expr) {
  let c = compiled.get(expr)
  if (!c) {
    try {
      c = { fn: ENV.parse(expr) }
    } catch (e) {
      c = { error: `compilation failed: ${firstLine(e)}` }
    }
    compiled.set(expr, c)
  }
  return c
}

function firstLine(e) {
  return String(e && e.message !== undefined ? e.message : e).split('\n')[0]
}

// Evaluates expr in ctx: {value} or {error}.
function run(expr, ctx) {
  if (typeof expr !== 'string' || expr.trim() === '') return { error: 'empty expression' }
  const c = compile(expr)
  if (c.error) return { error: c.error }
  try {
    const v = c.fn(ctx)
    if (v instanceof Promise) return { error: 'asynchronous result' }
    return { value: v }
  } catch (e) {
    return { error: `expression '${expr.trim()}' resulted in error: ${firstLine(e)}` }
  }
}

// ---- values as the API server hands them to CEL ---------------------------------------------

// An object as the API server decodes it into its Go type and hands it to CEL: null members
// are gone (a nil pointer, slice or map), JSON integers are ints.
function apiValue(v) {
  if (v === null || v === undefined) return null
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v
  if (Array.isArray(v)) return v.map(apiValue)
  if (typeof v === 'object') {
    const out = {}
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = apiValue(x)
    return out
  }
  return v
}

// The typed object as ConvertObjectToUnstructured builds it: apiValue, then the nil fields whose
// json tag has no omitempty, which the converter writes as null. Of the kinds judged, only
// Role.Rules and ClusterRole.Rules (json:"rules", k8s.io/api/rbac/v1 types.go) can be nil once
// validation has passed (the others are required or defaulted): a role without rules, as an
// aggregated ClusterRole is made, reaches CEL as rules: null.
function typedValue(req, v) {
  const out = apiValue(v)
  const kind = req.kind ?? {}
  if (out !== null && kind.group === 'rbac.authorization.k8s.io' && (kind.kind === 'Role' || kind.kind === 'ClusterRole') &&
      out.rules === undefined)
    out.rules = null
  return out
}

const isEmpty = (v) => v === undefined || v === null || v === '' ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)

// The request variable: cel.CreateAdmissionRequest, then ConvertObjectToUnstructured, which
// drops the omitempty fields that are empty. requestKind and requestResource are always set;
// dryRun always (a *bool). The request's uid is not among the fields CEL sees.
function requestValue(req) {
  const out = {}
  out.kind = req.kind ?? {}
  out.resource = req.resource ?? {}
  out.requestKind = req.requestKind ?? out.kind
  out.requestResource = req.requestResource ?? out.resource
  const sub = req.subResource ?? ''
  const requestSub = req.requestSubResource ?? sub
  if (sub) out.subResource = sub
  if (requestSub) out.requestSubResource = requestSub
  for (const k of ['name', 'namespace', 'options']) if (!isEmpty(req[k])) out[k] = req[k]
  out.operation = req.operation ?? ''
  const ui = req.userInfo ?? {}
  const userInfo = {}
  for (const k of ['username', 'uid', 'groups', 'extra']) if (!isEmpty(ui[k])) userInfo[k] = ui[k]
  out.userInfo = userInfo
  out.dryRun = req.dryRun === true
  return apiValue(out)
}

// ---- label selectors (metav1.LabelSelectorAsSelector) ----------------------------------------

// {error} for a selector the API server would refuse to parse, else {matches(labels)}.
function parseSelector(sel) {
  if (sel === undefined || sel === null) return { matches: () => true } // defaulted to {}
  const reqs = []
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push((l) => l[k] === v)
  for (const e of sel.matchExpressions ?? []) {
    const values = e.values ?? []
    switch (e.operator) {
      case 'In':
        if (!values.length) return { error: `values: must be specified when operator is In` }
        reqs.push((l) => Object.hasOwn(l, e.key) && values.includes(l[e.key]))
        break
      case 'NotIn':
        if (!values.length) return { error: `values: must be specified when operator is NotIn` }
        reqs.push((l) => !Object.hasOwn(l, e.key) || !values.includes(l[e.key]))
        break
      case 'Exists':
        if (values.length) return { error: `values: must not be specified when operator is Exists` }
        reqs.push((l) => Object.hasOwn(l, e.key))
        break
      case 'DoesNotExist':
        if (values.length) return { error: `values: must not be specified when operator is DoesNotExist` }
        reqs.push((l) => !Object.hasOwn(l, e.key))
        break
      default:
        return { error: `"${e.operator}" is not a valid label selector operator` }
    }
  }
  return { matches: (labels) => reqs.every((r) => r(labels ?? {})) }
}

const labelsOf = (obj) => (obj && typeof obj === 'object' && obj.metadata && obj.metadata.labels) || {}

// ---- matching (policy/matching/matching.go, webhook/predicates/rules/rules.go) ---------------

function exactOrWildcard(items, want) {
  return (items ?? []).some((i) => i === '*' || i === want)
}

function ruleMatches(rule, a) {
  const scope = rule.scope ?? '*'
  const isNamespaceRes = a.resource.group === '' && a.resource.version === 'v1' && a.resource.resource === 'namespaces'
  if (scope === 'Namespaced' && (isNamespaceRes || a.namespace === '')) return false
  if (scope === 'Cluster' && !(isNamespaceRes || a.namespace === '')) return false
  if (scope !== '*' && scope !== 'Namespaced' && scope !== 'Cluster') return false
  if (!(rule.operations ?? []).some((op) => op === '*' || op === a.operation)) return false
  if (!exactOrWildcard(rule.apiGroups, a.resource.group)) return false
  if (!exactOrWildcard(rule.apiVersions, a.resource.version)) return false
  return (rule.resources ?? []).some((r) => {
    const slash = r.indexOf('/')
    const res = slash < 0 ? r : r.slice(0, slash), sub = slash < 0 ? '' : r.slice(slash + 1)
    return (res === '*' || res === a.resource.resource) && (sub === '*' || sub === a.subResource)
  })
}

function namedRulesMatch(rules, a) {
  for (const rule of rules ?? []) {
    if (!ruleMatches(rule, a)) continue
    const names = rule.resourceNames ?? []
    if (!names.length || names.includes(a.name)) return true
  }
  return false
}

// matching.Matcher.Matches: {matches, reason} or {error}.
function matchResources(mr, a) {
  if (!mr) return { matches: true }
  let nsErr = null, objErr = null
  // namespace/matcher.go: cluster-scoped requests (other than namespaces) always match.
  if (a.namespace !== '' || a.resource.resource === 'namespaces') {
    const s = parseSelector(mr.namespaceSelector)
    if (s.error) nsErr = `namespaceSelector: ${s.error}`
    else if (!s.matches(a.namespaceLabels)) return { matches: false, reason: 'namespaceSelector' }
  }
  const os = parseSelector(mr.objectSelector)
  if (os.error) objErr = `objectSelector: ${os.error}`
  else if (!(mr.objectSelector === undefined || mr.objectSelector === null ||
             (a.object !== null && os.matches(labelsOf(a.object))) ||
             (a.oldObject !== null && os.matches(labelsOf(a.oldObject)))))
    return { matches: false, reason: 'objectSelector' }
  if (namedRulesMatch(mr.excludeResourceRules, a)) return { matches: false, reason: 'excludeResourceRules' }
  if ((mr.resourceRules ?? []).length && !namedRulesMatch(mr.resourceRules, a))
    return { matches: false, reason: 'resourceRules' }
  if (nsErr || objErr) return { error: nsErr || objErr }
  return { matches: true }
}

// ---- params (generic/policy_dispatcher.go CollectParams) --------------------------------------

const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'ClusterRole', 'ClusterRoleBinding',
  'CustomResourceDefinition', 'PersistentVolume', 'StorageClass', 'PriorityClass',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration', 'APIService', 'CertificateSigningRequest', 'IngressClass',
  'RuntimeClass', 'CSIDriver', 'CSINode', 'VolumeAttachment'])

function paramsFor(policy, binding, a, docs) {
  const kind = policy.spec.paramKind
  const ref = binding.spec.paramRef
  if (!kind || !ref) return { params: [null] }
  const candidates = docs.filter((d) => d && d.apiVersion === kind.apiVersion && d.kind === kind.kind)
  const namespaced = !CLUSTER_SCOPED.has(kind.kind)
  if (ref.namespace && !namespaced)
    return { error: 'paramRef.namespace must not be provided for a cluster-scoped `paramKind`' }
  let pool = candidates
  if (namespaced) {
    const ns = ref.namespace || a.namespace
    if (!ns) return { error: 'cannot use namespaced paramRef in policy binding that matches cluster-scoped resources' }
    // A namespaced document without a namespace lands in "default" when applied with kubectl.
    pool = candidates.filter((d) => ((d.metadata && d.metadata.namespace) || 'default') === ns)
  }
  let params
  if (ref.name) {
    if (ref.selector) return { error: 'paramRef.name and paramRef.selector are mutually exclusive' }
    params = pool.filter((d) => d.metadata && d.metadata.name === ref.name)
  } else if (ref.selector) {
    const s = parseSelector(ref.selector)
    if (s.error) return { error: s.error }
    params = pool.filter((d) => s.matches(labelsOf(d)))
  } else {
    return { error: 'one of name or selector must be provided' }
  }
  if (!params.length && ref.parameterNotFoundAction === 'Deny')
    return { error: 'no params found for policy binding with `Deny` parameterNotFoundAction' }
  return { params: params.map(apiValue) }
}

// ---- one policy, one binding, one param (validating/validator.go) ----------------------------

// The lazily evaluated, memoized variables: variable i sees only variables 0..i-1.
function makeVariables(specVars, base) {
  const scopes = []
  for (let i = 0; i <= specVars.length; i++) scopes.push({})
  specVars.forEach((v, i) => {
    let memo = null
    const get = () => {
      if (!memo) {
        const r = run(v.expression, { ...base, variables: scopes[i] })
        memo = r.error !== undefined ? { error: `variable '${v.name}': ${r.error}` } : { value: r.value }
      }
      if (memo.error !== undefined) throw celError(memo.error)
      return memo.value
    }
    for (let j = i + 1; j <= specVars.length; j++)
      Object.defineProperty(scopes[j], v.name, { enumerable: true, get })
  })
  return scopes[specVars.length]
}

function validate(policy, base, out) {
  const spec = policy.spec
  const fail = (spec.failurePolicy ?? 'Fail') !== 'Ignore'
  const onError = (msg) => {
    if (fail) {
      out.errors.push(msg)
      out.violations.push(`error: ${msg}`)
    } else {
      out.ignoredErrors.push(msg)
    }
  }
  const variables = makeVariables(spec.variables ?? [], base)
  const ctx = { ...base, variables }

  // matchconditions/matcher.go: any false condition skips the policy, errors only count when
  // none is false. The matcher passes no namespace.
  const mcErrors = []
  for (const mc of spec.matchConditions ?? []) {
    const r = run(mc.expression, { ...ctx, namespaceObject: null })
    if (r.error !== undefined) mcErrors.push(r.error)
    else if (r.value === false) {
      out.reason = `matchCondition '${mc.name}' is false`
      return
    } else if (r.value !== true) mcErrors.push(`matchCondition '${mc.name}' did not evaluate to bool`)
  }
  if (mcErrors.length) {
    onError(mcErrors.join(', '))
    return
  }

  ;(spec.validations ?? []).forEach((val, i) => {
    const r = run(val.expression, ctx)
    if (r.error !== undefined) return onError(r.error)
    if (r.value === true) return
    if (r.value !== false) return onError(`validation ${i} did not evaluate to bool`)
    let message = ''
    if (val.messageExpression) {
      const m = run(val.messageExpression, ctx)
      if (m.error === undefined && typeof m.value === 'string') {
        message = m.value.trim()
        if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES || message.includes('\n')) message = ''
      }
    }
    if (!message && val.message) message = val.message.trim()
    if (!message) message = `failed expression: ${val.expression.trim()}`
    out.violations.push(message)
    out.failed.push({ index: i, expression: val.expression, message })
  })

  for (const ann of spec.auditAnnotations ?? []) {
    const r = run(ann.valueExpression, ctx)
    if (r.error !== undefined) onError(r.error)
    else if (typeof r.value === 'string') {
      if (r.value.trim()) out.auditAnnotations[ann.key] = r.value.trim()
    } else if (r.value !== null)
      onError(`valueExpression '${ann.valueExpression}' resulted in unsupported return type`)
  }
}

// ---- the review --------------------------------------------------------------------------

function attributes(review, docs) {
  const req = review.request ?? {}
  const namespace = req.namespace ?? ''
  let nsObject = null
  if (namespace && !(req.kind && req.kind.kind === 'Namespace' && req.kind.group === '')) {
    nsObject = review.namespaceObject ??
      docs.find((d) => d && d.apiVersion === 'v1' && d.kind === 'Namespace' && d.metadata && d.metadata.name === namespace) ??
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [NS_NAME_LABEL]: namespace } },
        spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } }
  }
  const object = req.object === undefined ? null : typedValue(req, req.object)
  const oldObject = req.oldObject === undefined ? null : typedValue(req, req.oldObject)
  return {
    namespace,
    name: req.name ?? '',
    operation: req.operation ?? '',
    subResource: req.subResource ?? '',
    resource: { group: '', version: '', resource: '', ...(req.resource ?? {}) },
    object,
    oldObject,
    namespaceLabels: labelsOf(nsObject),
    cel: { object, oldObject, request: requestValue(req), namespaceObject: apiValue(nsObject) },
  }
}

function evaluateReview(review, policies, docs) {
  const a = attributes(review, docs)
  const results = []
  for (const { policy, bindings } of policies) {
    const spec = policy.spec ?? {}
    for (const binding of bindings) {
      const out = {
        policy: policy.metadata.name,
        binding: binding.metadata.name,
        rule: (policy.metadata.annotations ?? {})[RULE_ANNOTATION] ?? null,
        matched: false,
        reason: '',
        violations: [],
        errors: [],
        ignoredErrors: [],
        failed: [],
        auditAnnotations: {},
        actions: binding.spec.validationActions ?? [],
      }
      results.push(out)
      const fail = (spec.failurePolicy ?? 'Fail') !== 'Ignore'
      const configError = (msg) => {
        out.matched = true
        if (fail) {
          out.errors.push(msg)
          out.violations.push(`error: ${msg}`)
        } else out.ignoredErrors.push(msg)
      }
      if (!spec.matchConstraints) {
        out.reason = 'policy contained no match constraints, a required field'
        continue
      }
      const dm = matchResources(spec.matchConstraints, a)
      if (dm.error) { configError(`failed to configure policy: ${dm.error}`); continue }
      if (!dm.matches) { out.reason = `policy ${dm.reason}`; continue }
      const bm = matchResources(binding.spec.matchResources, a)
      if (bm.error) { configError(`failed to configure binding: ${bm.error}`); continue }
      if (!bm.matches) { out.reason = `binding ${bm.reason}`; continue }
      out.matched = true
      const p = paramsFor(policy, binding, a, docs)
      if (p.error) { configError(`failed to configure binding: ${p.error}`); continue }
      if (!p.params.length) { out.reason = 'no params (parameterNotFoundAction Allow)'; continue }
      for (const params of p.params) validate(policy, { ...a.cel, params }, out)
    }
  }
  return { uid: review.request ? review.request.uid : undefined, policies: results }
}

const input = JSON.parse(readFileSync(0, 'utf8'))
const docs = (input.docs ?? []).filter((d) => d && typeof d === 'object')
const isKind = (d, kind) => d.kind === kind && typeof d.apiVersion === 'string' &&
  d.apiVersion.startsWith('admissionregistration.k8s.io/')
const policies = docs.filter((d) => isKind(d, 'ValidatingAdmissionPolicy')).map((policy) => ({
  policy,
  bindings: docs.filter((b) => isKind(b, 'ValidatingAdmissionPolicyBinding') && b.spec &&
    b.spec.policyName === policy.metadata.name),
})).filter((p) => p.bindings.length)
const out = (input.reviews ?? []).map((r) => evaluateReview(r, policies, docs))
process.stdout.write(JSON.stringify(out) + '\n')
