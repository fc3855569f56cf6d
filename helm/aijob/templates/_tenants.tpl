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

{{- /* The parameters of one tenant's binding (a ConfigMap's data: strings only). */ -}}
{{- define "aijob.tenantParams" -}}
{{- if hasKey . "allowedPriorities" }}
allowedPriorities: {{ join "," .allowedPriorities | quote }}
{{- end }}
{{- if hasKey . "maxGpusPerJob" }}
maxGpusPerJob: {{ .maxGpusPerJob | toString | quote }}
{{- end }}
{{- end -}}

{{- /* Name of a tenant's parameters and binding; "defaults" for the namespaces not listed. */ -}}
{{- define "aijob.tenantObjectName" -}}
{{- printf "%s-tenant-%s" (include "aijob.fullname" .root) .tenant | trunc 253 -}}
{{- end -}}
