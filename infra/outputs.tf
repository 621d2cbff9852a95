output "functions" {
  description = "Each entry point: its function name, URL and service account."
  value = {
    for name, f in local.functions : name => {
      function        = google_cloudfunctions2_function.fn[name].name
      url             = google_cloudfunctions2_function.fn[name].service_config[0].uri
      service_account = google_service_account.fn[name].email
      trigger         = f.trigger
    }
  }
}

output "advance_url" {
  description = "ADVANCE_URL given to the functions that start workflow executions."
  value       = local.advance_url
}

output "control_http_url" {
  description = "The HTTP control API (callers need run.invoker: var.operator_members)."
  value       = google_cloudfunctions2_function.fn["controlHttp"].service_config[0].uri
}

output "workflow" {
  description = "Full name of the rollout workflow (WORKFLOW_NAME)."
  value       = google_workflows_workflow.rollout.id
}

output "topics" {
  description = "The controller's topics."
  value       = { for key, topic in local.topics : key => google_pubsub_topic.topic[topic].id }
}

output "dead_letter_subscription" {
  description = "Pull subscription keeping dead-lettered messages."
  value       = google_pubsub_subscription.dead_letter_keep.name
}

output "events_subscription" {
  description = "Pull subscription for watching lifecycle events."
  value       = google_pubsub_subscription.events_watch.name
}

output "alerts_notification_channel" {
  description = "Add this channel to alert policies that should roll canaries back."
  value       = google_monitoring_notification_channel.alerts.id
}

output "allowed_routes" {
  description = "ALLOWED_ROUTES of the functions."
  value       = local.allowed_routes
}

output "example_mesh" {
  description = "The example mesh, when enabled: what a first rollout request names."
  value = var.example_mesh ? {
    route          = module.example_mesh[0].route_name
    hostname       = module.example_mesh[0].hostname
    stable_backend = module.example_mesh[0].stable_backend
    canary_backend = module.example_mesh[0].canary_backend
    stable_service = module.example_mesh[0].stable_service
    canary_service = module.example_mesh[0].canary_service
    faulty_backend = module.example_mesh[0].faulty_backend
    faulty_service = module.example_mesh[0].faulty_service
    load_service   = module.example_mesh[0].load_service
    client_uri     = module.example_mesh[0].client_uri
  } : null
}

output "hooks_service_account" {
  description = "The identity hooks are called as: grant it roles/run.invoker on Cloud Run hook targets, or accept its ID tokens (docs/hooks.md)."
  value       = google_service_account.hooks.email
}

output "rolloutctl_config" {
  description = "The functions' configuration as KEY=\"VALUE\" lines, for `rolloutctl plan --config`: terraform output -raw rolloutctl_config > controller.env"
  value = join("", [
    for key, value in merge(
      local.common_environment,
      local.workflow_environment,
      { HOOKS_SERVICE_ACCOUNT = google_service_account.hooks.email },
      var.extra_environment,
    ) : "${key}=${jsonencode(value)}\n"
  ])
}
