# Optional: an example Cloud Service Mesh on Cloud Run for a first rollout (var.example_mesh).
module "example_mesh" {
  source = "./modules/example-mesh"
  count  = var.example_mesh ? 1 : 0

  project_id   = var.project_id
  region       = var.region
  domain       = var.example_mesh_domain
  stable_image = var.example_mesh_stable_image
  canary_image = var.example_mesh_canary_image
  client_image = var.example_mesh_client_image

  load_requests_per_second = var.example_mesh_load_requests_per_second
  faulty_error_ratio       = var.example_mesh_faulty_error_ratio

  depends_on = [google_project_service.api]
}
