terraform {
  # 1.5: `check` blocks (see functions.tf) and `terraform_data` (pubsub.tf); 1.9: a variable's
  # validation may refer to other variables (delivery_lease_seconds).
  required_version = ">= 1.9.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0.0, < 8.0.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.5.0, < 3.0.0" # 2.5: glob patterns in archive_file excludes
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = merge({ app = "hookshape" }, var.labels)
}
