# Least privilege: every grant below is to one of this configuration's own service accounts (or a
# Google service agent), for one purpose, on the narrowest resource that supports IAM.
# docs/deploy.md has the same list as a table.

# --- Custom roles ------------------------------------------------------------------------------

resource "google_project_iam_custom_role" "route_editor" {
  role_id     = "${var.name_prefix}RouteEditor"
  title       = "Canary controller: route editor"
  description = "Read, list and patch Network Services HTTPRoutes, GRPCRoutes, TCPRoutes and TLSRoutes and poll their operations."
  permissions = local.route_editor_permissions

  depends_on = [google_project_service.api]
}

resource "google_project_iam_custom_role" "metrics_reader" {
  role_id     = "${var.name_prefix}MetricsReader"
  title       = "Canary controller: metrics reader"
  description = "Read Cloud Monitoring time series and alert policies."
  permissions = local.metrics_reader_permissions

  depends_on = [google_project_service.api]
}

# --- Function runtime identities ---------------------------------------------------------------

resource "google_project_iam_member" "firestore" {
  for_each = local.firestore_users

  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.fn[each.key].member
}

resource "google_project_iam_member" "route_editor" {
  for_each = local.networkservices_users

  project = var.project_id
  role    = google_project_iam_custom_role.route_editor.name
  member  = google_service_account.fn[each.key].member
}

resource "google_project_iam_member" "metrics_reader" {
  for_each = local.monitoring_users

  project = var.project_id
  role    = google_project_iam_custom_role.metrics_reader.name
  member  = google_service_account.fn[each.key].member
}

# Workflows has no per-workflow IAM: the invoker role is granted on the project.
resource "google_project_iam_member" "workflow_invoker" {
  for_each = local.workflowexecutions_users

  project = var.project_id
  role    = "roles/workflows.invoker"
  member  = google_service_account.fn[each.key].member
}

# --- Who may publish to which topic -------------------------------------------------------------

# roles/pubsub.publisher on each controller topic is authoritative here: one binding per topic
# holds exactly the publishers local.topic_publishers names, so a publisher added outside Terraform
# shows in the next plan and is removed by the next apply (docs/security.md#who-may-publish). Other
# roles on the topics (subscriber, viewer) are left to whoever grants them.
locals {
  outside_publisher_members = {
    ci        = var.ci_principals
    operators = var.operator_principals
    # Cloud Monitoring delivers incidents as its notification service agent.
    monitoring_notification_agent = ["serviceAccount:service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"]
    # A Cloud Scheduler job with a Pub/Sub target publishes as the Cloud Scheduler service agent.
    cloud_scheduler_agent = ["serviceAccount:service-${data.google_project.this.number}@gcp-sa-cloudscheduler.iam.gserviceaccount.com"]
  }
}

resource "google_pubsub_topic_iam_binding" "publishers" {
  for_each = local.topic_publishers

  topic = google_pubsub_topic.topic[each.key].name
  role  = "roles/pubsub.publisher"
  members = concat(
    [for name in each.value.functions : google_service_account.fn[name].member],
    flatten([for kind in each.value.outside : local.outside_publisher_members[kind]]),
  )

  # Both service agents exist only once their service has been used in the project: Monitoring
  # creates its notification agent with the first Pub/Sub channel, Scheduler its agent with the API.
  depends_on = [google_monitoring_notification_channel.alerts, google_cloud_scheduler_job.tick]
}

# --- Who may invoke which function -------------------------------------------------------------

# Each push identity invokes its own function only.
resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  for_each = local.pubsub_triggered

  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.push[each.key].member
}

# The workflow invokes the advance function only.
resource "google_cloud_run_v2_service_iam_member" "workflow_calls_advance" {
  location = var.region
  name     = google_cloudfunctions2_function.fn[local.advance_function].service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.workflow.member
}

# Operators (var.operator_members) may call the HTTP control API.
resource "google_cloud_run_v2_service_iam_member" "operators" {
  for_each = toset(var.operator_members)

  location = var.region
  name     = google_cloudfunctions2_function.fn["controlHttp"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

# --- Hooks identity ----------------------------------------------------------------------------

# Hooks (docs/hooks.md) are called with an OIDC ID token of the rollout-hooks service account:
# hook targets trust that one identity (on Cloud Run: roles/run.invoker for it). The functions
# that call hooks may mint ID tokens as this account only, not as any other in the project.
resource "google_service_account_iam_member" "hooks_token_creator" {
  for_each = local.hook_callers

  service_account_id = google_service_account.hooks.name
  role               = "roles/iam.serviceAccountOpenIdTokenCreator"
  member             = google_service_account.fn[each.key].member
}

# --- Workflow identity -------------------------------------------------------------------------

# Workflows writes call logs and sys.log entries as the workflow's service account.
resource "google_project_iam_member" "workflow_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.workflow.member
}

# --- Build identity ----------------------------------------------------------------------------

resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/logging.logWriter",       # build logs
    "roles/storage.objectAdmin",     # the source copy in gcf-v2-sources-* and the build's own objects
    "roles/artifactregistry.writer", # the function image in gcf-artifacts
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.build.member
}

# --- Google service agents ---------------------------------------------------------------------

resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.api]
}

# Dead lettering: Pub/Sub forwards an undeliverable message to the dead-letter topic (publish) and
# acknowledges it on the source subscription (subscribe), both as its service agent.
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letter" {
  topic  = google_pubsub_topic.dead_letter.name
  role   = "roles/pubsub.publisher"
  member = google_project_service_identity.pubsub.member
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks" {
  for_each = local.pubsub_triggered

  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = google_project_service_identity.pubsub.member
}

# Pub/Sub mints each push identity's OIDC token as its service agent (required explicitly in
# projects created before 2021-04-08); granted on the push identities only.
resource "google_service_account_iam_member" "pubsub_agent_tokens" {
  for_each = local.pubsub_triggered

  service_account_id = google_service_account.push[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_project_service_identity.pubsub.member
}

# Cloud Monitoring publishes incidents to the alerts topic as its notification service agent, and
# Cloud Scheduler the tick as its own: both are in google_pubsub_topic_iam_binding.publishers.
