terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "7.45.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "7.45.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "2.7.1"
    }
    # Only for the example mesh (time_sleep).
    time = {
      source  = "hashicorp/time"
      version = "0.13.1"
    }
  }
}

provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = var.labels
}

provider "google-beta" {
  project        = var.project_id
  region         = var.region
  default_labels = var.labels
}
