variable "project_id" {
  description = "Project the controller runs in (and the routes it manages live in)."
  type        = string
}

variable "region" {
  description = "Region of the functions, the workflow, the scheduler job and the source bucket."
  type        = string
  default     = "europe-west1"
}

variable "name_prefix" {
  description = "Prefix of every service account, role and resource name this configuration creates."
  type        = string
  default     = "canary"

  validation {
    # The longest service account id is <prefix>-push-start-rollout (30 characters at most).
    condition     = can(regex("^[a-z][a-z0-9]{1,10}$", var.name_prefix))
    error_message = "name_prefix must be 2-11 lowercase letters or digits, starting with a letter."
  }
}

variable "labels" {
  description = "Labels added to every resource that supports them."
  type        = map(string)
  default     = { app = "canary-controller" }
}

# --- Firestore ---------------------------------------------------------------------------------

variable "create_firestore_database" {
  description = "Create the Firestore database. Set false when the project already has it (one (default) database per project)."
  type        = bool
  default     = true
}

variable "firestore_database" {
  description = "Firestore database id (FIRESTORE_DATABASE)."
  type        = string
  default     = "(default)"
}

variable "firestore_location" {
  description = "Firestore location (a region such as europe-west1, or a multi-region such as eur3 or nam5). Defaults to var.region."
  type        = string
  default     = null
}

# --- Functions ---------------------------------------------------------------------------------

variable "allowed_routes" {
  description = "Full route names (or prefixes ending in *) the controller may manage (ALLOWED_ROUTES); each route kind is allowed on its own (…/httpRoutes/…, …/grpcRoutes/…, …/tcpRoutes/…, …/tlsRoutes/…). The example mesh's route is added when it is enabled."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.allowed_routes : can(regex("^projects/[^/\\s]+/locations/[^/\\s]+/(httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes)/[-a-z0-9]*\\*?$", r))])
    error_message = "Each entry must be projects/P/locations/L/{httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes}/NAME, optionally ending in *."
  }
}

variable "metrics_preset" {
  description = "Metric source for a backend a request does not describe (METRICS_PRESET): cloudRun (Cloud Run services joined to a mesh) or internalLb (only routes served through Google-managed internal ALB proxies; requests on mesh routes that rely on it are rejected)."
  type        = string
  default     = "cloudRun"

  validation {
    condition     = contains(["cloudRun", "internalLb"], var.metrics_preset)
    error_message = "metrics_preset must be cloudRun or internalLb."
  }
}

variable "default_metrics" {
  description = "Map from backend service name to a metric source (DEFAULT_METRICS), e.g. { \"checkout-v42\" = { preset = \"cloudRun\", service = \"checkout\" } }."
  type        = any
  default     = {}
}

variable "authorization_policy" {
  description = "The authorization policy (AUTHZ_POLICY, docs/security.md#authorization): which principals (user:, serviceAccount:, group:, domain:, topic:) may run which commands on which route patterns. null: topic publishers only (whoever may publish to rollout-requests may start, to rollout-control may run every command); no HTTP caller may run any."
  type = object({
    grants = list(object({
      principals = list(string)
      routes     = list(string)
      commands   = list(string)
    }))
  })
  default = null

  validation {
    condition = var.authorization_policy == null ? true : alltrue([
      for g in var.authorization_policy.grants : alltrue([
        for c in g.commands : contains(["start", "pause", "resume", "promote", "abort", "retry", "overrideHooks"], c)
      ])
    ])
    error_message = "Each grant's commands must be among start, pause, resume, promote, abort, retry, overrideHooks."
  }
}

variable "extra_environment" {
  description = "More environment variables for every function (e.g. ROUTE_LEASE_SECONDS, TICK_BATCH; see docs/configuration.md)."
  type        = map(string)
  default     = {}
}

variable "function_memory" {
  description = "Memory of each function instance."
  type        = string
  default     = "512Mi"
}

variable "function_cpu" {
  description = "vCPUs of each function instance."
  type        = string
  default     = "1"
}

variable "function_timeout_seconds" {
  description = "Request timeout of each function. Push subscriptions wait 600 s for an answer, so keep it below that."
  type        = number
  default     = 300

  validation {
    condition     = var.function_timeout_seconds >= 60 && var.function_timeout_seconds <= 540
    error_message = "function_timeout_seconds must be between 60 and 540."
  }
}

variable "on_alert_min_instances" {
  description = "Instances of the onAlert function kept warm, so an alert's rollback does not wait for a cold start (npm run bench:coldstart). 0 (default) costs nothing idle; each warm instance of function_memory/function_cpu (512 MiB, 1 vCPU) is billed its idle time: about $9.72 a 30-day month at Cloud Run's Tier 1 idle min-instance prices ($0.0000025 per vCPU-second and per GiB-second), docs/deploy.md#cost."
  type        = number
  default     = 0

  validation {
    condition     = var.on_alert_min_instances >= 0 && var.on_alert_min_instances <= 3 && floor(var.on_alert_min_instances) == var.on_alert_min_instances
    error_message = "on_alert_min_instances must be a whole number from 0 to 3."
  }
}

variable "function_max_instances" {
  description = "Maximum instances per function."
  type        = number
  default     = 10
}

variable "function_concurrency" {
  description = "Concurrent requests per function instance."
  type        = number
  default     = 8
}

variable "ingress_settings" {
  description = "Network ingress of the functions. Every function requires IAM authentication whatever this says; ALLOW_ALL lets operators reach controlHttp from their machines."
  type        = string
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.ingress_settings)
    error_message = "ingress_settings must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "operator_members" {
  description = "Principals allowed to call the controlHttp function (run.invoker on it), e.g. [\"group:sre@example.com\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.operator_members : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+", m))])
    error_message = "operator_members must name users, groups, service accounts, domains or principals; public access is not allowed."
  }
}

variable "ci_principals" {
  description = "IAM members that may publish rollout requests (roles/pubsub.publisher on rollout-requests, and nobody else), e.g. [\"serviceAccount:ci@my-project.iam.gserviceaccount.com\"] or a workload identity principalSet."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.ci_principals : can(regex("^(user|group|serviceAccount|principal|principalSet):[^\\s]+$", m))])
    error_message = "ci_principals must name users, groups, service accounts or principals (user:, group:, serviceAccount:, principal:, principalSet:); domains and public access are not allowed."
  }
}

variable "operator_principals" {
  description = "IAM members that may publish operator commands (roles/pubsub.publisher on rollout-control, and nobody else), e.g. [\"group:sre@example.com\"]. Calling controlHttp is operator_members."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.operator_principals : can(regex("^(user|group|serviceAccount|principal|principalSet):[^\\s]+$", m))])
    error_message = "operator_principals must name users, groups, service accounts or principals (user:, group:, serviceAccount:, principal:, principalSet:); domains and public access are not allowed."
  }
}

# --- Delivery ----------------------------------------------------------------------------------

variable "max_delivery_attempts" {
  description = "Deliveries of one message to a function before it goes to the dead-letter topic (5-100)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

variable "retry_minimum_backoff" {
  description = "First redelivery delay after a function fails (Pub/Sub retry policy)."
  type        = string
  default     = "10s"
}

variable "retry_maximum_backoff" {
  description = "Longest redelivery delay (Pub/Sub retry policy, at most 600s)."
  type        = string
  default     = "600s"
}

variable "tick_schedule" {
  description = "Cron schedule of the tick (unix-cron; once a minute is the finest)."
  type        = string
  default     = "* * * * *"
}

variable "tick_time_zone" {
  description = "Time zone of the tick schedule."
  type        = string
  default     = "Etc/UTC"
}

# --- Workflow ----------------------------------------------------------------------------------

variable "workflow_name" {
  description = "Name of the rollout workflow."
  type        = string
  default     = "canary-rollout"
}

variable "workflow_call_log_level" {
  description = "Workflows call logging: LOG_ALL_CALLS, LOG_ERRORS_ONLY or LOG_NONE."
  type        = string
  default     = "LOG_ERRORS_ONLY"
}

variable "deletion_protection" {
  description = "Protect the workflow from terraform destroy."
  type        = bool
  default     = false
}

# --- Alerting ----------------------------------------------------------------------------------

variable "example_alert_canary_service" {
  description = "Cloud Run service name of a canary to create the example 5xx-ratio alert policy for. Defaults to the example mesh's canary when that is enabled; null and no example mesh means no example policy."
  type        = string
  default     = null
}

variable "example_alert_max_error_ratio" {
  description = "5xx share of requests above which the example alert opens an incident."
  type        = number
  default     = 0.05
}

variable "known_alert_policies" {
  description = "Alert policies whose incidents onAlert accepts without looking them up (KNOWN_ALERT_POLICIES): display names, or projects/P/alertPolicies/ID. Labelled policies (rollout_* user labels) of the project are accepted anyway while alert_policies_by_label is true."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.known_alert_policies : length(p) > 0 && length(p) <= 512 && !strcontains(p, ",")])
    error_message = "known_alert_policies entries must be 1-512 characters without a comma (name a policy whose display name has a comma by projects/P/alertPolicies/ID)."
  }
}

variable "alert_policies_by_label" {
  description = "Also accept incidents of any alert policy of the project that carries rollout_* user labels, mapped by the labels Cloud Monitoring holds (ALERT_POLICIES_BY_LABEL)."
  type        = bool
  default     = true
}

variable "operator_notification_channels" {
  description = "Notification channels (ids, projects/P/notificationChannels/N) for the dead-letter alert, e.g. an e-mail channel of the on-call team. Required: a dead letter is a message the controller gave up on, and an alert nobody receives is no alert."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.operator_notification_channels) > 0
    error_message = "Set operator_notification_channels to at least one notification channel id (projects/P/notificationChannels/N, e.g. from `gcloud beta monitoring channels list`): the dead-letter alert tells operators that the controller gave up on a message, and must reach someone."
  }

  validation {
    condition     = alltrue([for c in var.operator_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "operator_notification_channels must be notification channel ids of the form projects/P/notificationChannels/N."
  }
}

# --- Example mesh ------------------------------------------------------------------------------

variable "example_mesh" {
  description = "Create the example mesh (infra/modules/example-mesh): stable and canary Cloud Run services behind an HTTPRoute, and a mesh client."
  type        = bool
  default     = false
}

variable "example_mesh_domain" {
  description = "Private DNS domain of the example mesh."
  type        = string
  default     = "mesh.internal"
}

variable "example_mesh_stable_image" {
  description = "Container image of the example stable backend; null runs the demo backend (always 200)."
  type        = string
  default     = null
}

variable "example_mesh_canary_image" {
  description = "Container image of the example canary backend; null runs the demo backend (always 200)."
  type        = string
  default     = null
}

variable "example_mesh_faulty_error_ratio" {
  description = "Share of requests the example's faulty canary (checkout-faulty) answers with a 500, so a first rollout to it is rolled back."
  type        = number
  default     = 0.1
}

variable "example_mesh_load_requests_per_second" {
  description = "Requests a second the example's load generator (checkout-load) sends to the example route; 0: none. One always-on instance (1 vCPU, 512 MiB, instance-based billing: about $49 a month at Tier 1 list prices, docs/deploy.md). 10 gives a 10 % canary step about 60 requests a minute, above the default minRequests (50) per 60 s window."
  type        = number
  default     = 10
}

variable "example_mesh_client_image" {
  description = "Container image of the example mesh client (it reaches the route at http://<name>.<domain>)."
  type        = string
  default     = "us-docker.pkg.dev/cloudrun/container/hello"
}
