{{- /*
Tenant limits (values `tenants` and `tenantDefaults`; docs/security.md, "Tenant limits").

aijob.tenants: the listed tenants, each with the defaults filled in for the keys it does not
set, checked (no namespace twice, not the release's own), as YAML `{tenants: [...]}`.
*/ -}}
{{- define "aijob.tenants" -}}
{{- $seen := dict -}}
{{- $tenants := list -}}
{{- range $index, $tenant := .Values.tenants -}}
{{- if hasKey $seen $tenant.namespace -}}
{{- fail (printf "tenants[%d].namespace: %s is listed twice" $index $tenant.namespace) -}}
{{- end -}}
{{- if eq $tenant.namespace $.Release.Namespace -}}
{{- fail (printf "tenants[%d].namespace: %s is the release's own namespace, which runs no jobs" $index $tenant.namespace) -}}
{{- end -}}
{{- $_ := set $seen $tenant.namespace true -}}
{{- $tenants = append $tenants (mergeOverwrite (deepCopy (default (dict) $.Values.tenantDefaults)) (deepCopy $tenant)) -}}
{{- end -}}
{{- toYaml (dict "tenants" $tenants) -}}
{{- end -}}

{{- /*
aijob.tenantPolicy: the ValidatingAdmissionPolicy of one tenant's per-job limits (or the
defaults'), the limits written into its CEL. No paramKind: the API server's informer of a
built-in paramKind (a ConfigMap) stops for good once no binding names it for a moment
(kubernetes/kubernetes#130887), after which a binding refuses everything or checks stale
values until the API server restarts; a cluster-scoped policy is as far from a tenant's
reach as parameters in the release's namespace. Called with (dict "root" $ "name" NAME
"limits" LIMITS); it renders only the limits it is given.
*/ -}}
{{- define "aijob.tenantPolicy" -}}
{{- $limits := .limits -}}
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: {{ .name }}
  labels:
    {{- include "aijob.labels" .root | nindent 4 }}
    app.kubernetes.io/component: tenant-limits
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["aijob.dev"]
      apiVersions: ["*"]
      # Only creation: priority and resources are immutable, and an object must stay
      # deletable (kopf's finalizers) after a limit is lowered.
      operations: ["CREATE"]
      resources: ["aijobs", "aiendpoints"]
  variables:
  # The CRD's defaults are applied before admission; has() keeps a missing field honest.
  - name: priority
    expression: "has(object.spec.priority) ? object.spec.priority : 'normal'"
  - name: gpus
    expression: >-
      has(object.spec.resources) && has(object.spec.resources.gpu)
      ? object.spec.resources.gpu : 0
  - name: unit
    expression: "object.kind == 'AIEndpoint' ? 'replica' : 'job'"
  validations:
  {{- if hasKey $limits "allowedPriorities" }}
  {{- $allowed := list }}
  {{- range $priority := $limits.allowedPriorities }}
  {{- $allowed = append $allowed (printf "'%s'" $priority) }}
  {{- end }}
  - expression: "variables.priority in [{{ join ", " $allowed }}]"
    messageExpression: >-
      'spec.priority: ' + variables.priority + ' is not allowed in namespace '
      + request.namespace + ' (tenant limit allowedPriorities: {{ join "," $limits.allowedPriorities }})'
    reason: Invalid
  {{- end }}
  {{- if hasKey $limits "maxGpusPerJob" }}
  - expression: "variables.gpus <= {{ int $limits.maxGpusPerJob }}"
    messageExpression: >-
      'spec.resources.gpu: ' + string(variables.gpus) + ' GPUs per ' + variables.unit
      + ' exceed the limit of namespace ' + request.namespace
      + ' (tenant limit maxGpusPerJob: {{ int $limits.maxGpusPerJob }})'
    reason: Invalid
  {{- end }}
{{- end -}}

{{- /* Whether limits hold a per-job limit (the policy's business; the rest is quotas'). */ -}}
{{- define "aijob.perJobLimits" -}}
{{- if or (hasKey . "allowedPriorities") (hasKey . "maxGpusPerJob") }}true{{ end -}}
{{- end -}}

{{- /* Name of a tenant's policy and binding (the defaults' are <fullname>-tenants-default). */ -}}
{{- define "aijob.tenantObjectName" -}}
{{- printf "%s-tenant-%s" (include "aijob.fullname" .root) .tenant | trunc 253 -}}
{{- end -}}
