"""Service: what the company does for and about a customer over time, above the domain apps it
serves (design.md): the service desk (requests and field work orders), move-out and name transfer
with a final bill, the collections ladder (催缴) and payment arrangements (分期). Each is a
subpackage with its own models, services, store (SQL), pages and API routes, listed in
SUBPACKAGES (apps.py); the app's models, urls and api_urls join them."""
