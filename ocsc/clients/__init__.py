"""Third-party clients: named apps and city systems holding API keys for Open311 and the API."""
