locals {
  apis = concat([
    "artifactregistry.googleapis.com",   # function images
    "cloudbuild.googleapis.com",         # function builds
    "cloudfunctions.googleapis.com",     # Cloud Run functions (2nd gen)
    "cloudidentity.googleapis.com",      # group: principals of AUTHZ_POLICY (docs/security.md#groups)
    "cloudscheduler.googleapis.com",     # the tick
    "compute.googleapis.com",            # backend services referenced by routes
    "firestore.googleapis.com",          # rollout state
    "iam.googleapis.com",                # service accounts, custom roles
    "iamcredentials.googleapis.com",     # ID tokens for hook calls (generateIdToken)
    "logging.googleapis.com",            # function and workflow logs
    "monitoring.googleapis.com",         # analysis reads, alert policies, notification channel
    "networkservices.googleapis.com",    # HTTPRoutes
    "pubsub.googleapis.com",             # topics and push subscriptions
    "run.googleapis.com",                # the functions' services
    "storage.googleapis.com",            # function sources
    "workflowexecutions.googleapis.com", # starting executions
    "workflows.googleapis.com",          # the rollout workflow
    ], var.example_mesh ? [
    "dns.googleapis.com",            # the mesh's private zone
    "trafficdirector.googleapis.com" # Cloud Service Mesh control plane
  ] : [])
}

resource "google_project_service" "api" {
  for_each = toset(local.apis)

  service = each.value
  # Uninstalling the controller must not switch off APIs other workloads in the project use.
  disable_on_destroy = false
}
