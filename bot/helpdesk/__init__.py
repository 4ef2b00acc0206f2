"""Live helpdesk data: Zendesk and Freshdesk clients and the sync into the KPI tickets."""
