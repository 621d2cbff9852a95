output "route_name" {
  description = "Full name of the HTTPRoute (for ALLOWED_ROUTES and rollout requests)."
  value       = google_network_services_http_route.route.id
}

output "hostname" {
  description = "Hostname the route answers for inside the mesh."
  value       = local.hostname
}

output "mesh" {
  description = "Full name of the Mesh."
  value       = google_network_services_mesh.mesh.id
}

output "stable_backend" {
  description = "Backend service name of stable, as a rollout request names it."
  value       = local.backend_names["stable"]
}

output "canary_backend" {
  description = "Backend service name of canary, as a rollout request names it."
  value       = local.backend_names["canary"]
}

output "stable_service" {
  description = "Cloud Run service behind the stable backend."
  value       = google_cloud_run_v2_service.backend["stable"].name
}

output "canary_service" {
  description = "Cloud Run service behind the canary backend."
  value       = google_cloud_run_v2_service.backend["canary"].name
}

output "client_uri" {
  description = "URL of the mesh client."
  value       = google_cloud_run_v2_service.client.uri
}

output "faulty_backend" {
  description = "Backend service name of the faulty canary (a share of its answers are 5xx), as a rollout request names it."
  value       = local.backend_names["faulty"]
}

output "faulty_service" {
  description = "Cloud Run service behind the faulty canary backend."
  value       = google_cloud_run_v2_service.backend["faulty"].name
}

output "load_service" {
  description = "Cloud Run service of the load generator (null when load_requests_per_second is 0)."
  value       = one(google_cloud_run_v2_service.load[*].name)
}
