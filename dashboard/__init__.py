"""What the dashboard pages share: data access, filters, charts, formatting."""
