# The rollout workflow: started once per rollout by startRollout (or control's retry) with
# {rolloutId, advanceUrl}; it POSTs advanceRollout with an OIDC token and sleeps as told.

resource "google_service_account" "workflow" {
  account_id   = "${var.name_prefix}-workflow"
  display_name = "Canary controller: rollout workflow"
  description  = "Identity of the rollout workflow; run.invoker on the advance function only."
}

resource "google_workflows_workflow" "rollout" {
  name                = var.workflow_name
  region              = var.region
  description         = "Runs the stages of one canary rollout by calling the advanceRollout function."
  service_account     = google_service_account.workflow.id
  call_log_level      = var.workflow_call_log_level
  deletion_protection = var.deletion_protection

  source_contents = file("${path.module}/../workflows/canary-rollout.yaml")

  depends_on = [google_project_service.api]
}
