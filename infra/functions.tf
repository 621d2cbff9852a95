# One Cloud Run function (2nd gen, nodejs22) per entry point of functions/manifest.ts, built by
# `npm run build` into dist/functions/<name>/ (bundle + package.json with its production
# dependencies; Cloud Build installs those on deploy).

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  function_names = { for name, f in local.functions : name => "${var.name_prefix}-${f.short}" }

  # Cloud Run's deterministic URL (https://SERVICE-PROJECT_NUMBER.REGION.run.app) is known before
  # the function exists, so the functions that start workflows can be given the advance
  # function's URL without a dependency cycle.
  function_urls = {
    for name, service in local.function_names :
    name => "https://${service}-${data.google_project.this.number}.${var.region}.run.app"
  }
  advance_url = local.function_urls[local.advance_function]

  allowed_routes = concat(var.allowed_routes, var.example_mesh ? [module.example_mesh[0].route_name] : [])

  common_environment = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    PROJECT_NUMBER       = data.google_project.this.number
    ALLOWED_ROUTES       = join(",", local.allowed_routes)
    EVENTS_TOPIC         = local.topics.events
    ADVANCE_TOPIC        = local.topics.advance
    FIRESTORE_DATABASE   = local.firestore_database
    METRICS_PRESET       = var.metrics_preset
    DEFAULT_METRICS      = jsonencode(var.default_metrics)
    LOG_EXECUTION_ID     = "true"
    # HTTP callers: Cloud Run's invoker check verifies the ID token (run.invoker is granted only to
    # operators and the workflow); the functions read its claims (docs/security.md#identity).
    ID_TOKEN_CHECK    = "cloudRun"
    DRIVER_PRINCIPALS = google_service_account.workflow.email
    # Which incidents onAlert accepts (docs/security.md#alert-policies-the-controller-trusts).
    KNOWN_ALERT_POLICIES    = join(",", var.known_alert_policies)
    ALERT_POLICIES_BY_LABEL = tostring(var.alert_policies_by_label)
  }
  workflow_environment = {
    WORKFLOW_NAME = google_workflows_workflow.rollout.id
    ADVANCE_URL   = local.advance_url
  }
}

resource "google_storage_bucket" "sources" {
  name                        = "${var.project_id}-${var.name_prefix}-fn-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  depends_on = [google_project_service.api]
}

data "archive_file" "source" {
  for_each = local.functions

  type        = "zip"
  source_dir  = "${path.module}/../dist/functions/${each.key}"
  output_path = "${path.module}/.build/${each.key}.zip"
}

resource "google_storage_bucket_object" "source" {
  for_each = local.functions

  # Content-addressed: a changed bundle replaces the object (the old one is deleted) and
  # redeploys that function only.
  name   = "${each.key}/${data.archive_file.source[each.key].output_md5}.zip"
  bucket = google_storage_bucket.sources.name
  source = data.archive_file.source[each.key].output_path
}

# Runtime identity of each function: one per function, granted only what that function uses (iam.tf).
resource "google_service_account" "fn" {
  for_each = local.functions

  account_id   = "${var.name_prefix}-fn-${each.value.short}"
  display_name = "Canary controller: ${each.key}"
  description  = "Runtime identity of the ${each.key} function (uses: ${join(", ", each.value.uses)})."
}

# The identity hooks are called as: it runs nothing and holds no role; hook targets grant it
# access (Cloud Run: roles/run.invoker) and the hook-calling functions mint its ID tokens.
resource "google_service_account" "hooks" {
  account_id   = "${var.name_prefix}-rollout-hooks"
  display_name = "Canary controller: rollout hooks"
  description  = "Identity of the OIDC ID tokens rollout hooks receive (docs/hooks.md)."
}

# Builds the function images (instead of the Compute Engine default service account).
resource "google_service_account" "build" {
  account_id   = "${var.name_prefix}-build"
  display_name = "Canary controller: function builds"
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions

  name        = local.function_names[each.key]
  location    = var.region
  description = "Canary controller entry point ${each.key} (${each.value.trigger == "http" ? "HTTP" : "push from ${each.value.trigger}"})."

  build_config {
    runtime         = "nodejs22"
    entry_point     = each.key
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }

  # No event_trigger: topic-triggered functions are fed by the push subscriptions in pubsub.tf,
  # which carry the retry and dead-letter policies an Eventarc trigger cannot have.
  service_config {
    service_account_email            = google_service_account.fn[each.key].email
    available_memory                 = var.function_memory
    available_cpu                    = var.function_cpu
    timeout_seconds                  = var.function_timeout_seconds
    max_instance_count               = var.function_max_instances
    min_instance_count               = each.key == "onAlert" ? var.on_alert_min_instances : 0
    max_instance_request_concurrency = var.function_concurrency
    ingress_settings                 = var.ingress_settings
    all_traffic_on_latest_revision   = true

    environment_variables = merge(
      local.common_environment,
      contains(each.value.uses, "workflowexecutions") ? local.workflow_environment : {},
      contains(keys(local.hook_callers), each.key) ? { HOOKS_SERVICE_ACCOUNT = google_service_account.hooks.email } : {},
      var.authorization_policy == null ? {} : { AUTHZ_POLICY = jsonencode(var.authorization_policy) },
      var.extra_environment,
    )
  }

  lifecycle {
    precondition {
      condition     = length(local.allowed_routes) > 0
      error_message = "Set allowed_routes (or enable example_mesh): the controller refuses to start without a route it may manage."
    }
  }

  depends_on = [
    google_project_service.api,
    google_project_iam_member.build,
  ]
}

# ADVANCE_URL is computed before the function exists; warn (terraform plan/apply) if it is none of
# the URLs Cloud Run serves the function on, e.g. a service name too long for a deterministic URL.
# The function reports the hashed *.a.run.app form; the Cloud Run service's `urls` list both forms,
# and Cloud Run accepts ID tokens for either audience.
check "advance_url" {
  data "google_cloud_run_v2_service" "advance" {
    name     = google_cloudfunctions2_function.fn[local.advance_function].service_config[0].service
    location = var.region
  }

  assert {
    condition = contains(
      concat(
        data.google_cloud_run_v2_service.advance.urls,
        [
          google_cloudfunctions2_function.fn[local.advance_function].url,
          google_cloudfunctions2_function.fn[local.advance_function].service_config[0].uri,
        ],
      ),
      local.advance_url,
    )
    error_message = "ADVANCE_URL (${local.advance_url}) is not a URL of the advance function (${join(", ", data.google_cloud_run_v2_service.advance.urls)}); set extra_environment.ADVANCE_URL to one of them."
  }
}
