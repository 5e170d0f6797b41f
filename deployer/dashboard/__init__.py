"""The dashboard: a read-only web app over the job set (`deployer dashboard`)."""
