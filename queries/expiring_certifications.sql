-- title: Certifications expiring within N days
-- description: Peers whose certification expires within the given number of days of the as-of date (e.g. 90), soonest first.
-- default days: 90
select agency_id, agency_name, region_id, peer_id, role, credential_code, status,
       expiration_date, days_to_expiry
from kpi_expiring_certifications
where days_to_expiry between 0 and cast($days as integer)
order by days_to_expiry, agency_id, peer_id
