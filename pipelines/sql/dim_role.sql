-- dim_role: the staff roles of the headcount and certification reports; is_peer marks peer workers.
create or replace view dim_role as
with roles as (
    select *
    from (
        values
            ('PEER_SPECIALIST_MH', 'Peer specialist (mental health)', true, 1),
            ('PEER_RECOVERY_SUD', 'Peer recovery specialist (SUD)', true, 2),
            ('FAMILY_PEER', 'Family peer specialist', true, 3),
            ('YOUTH_PEER', 'Youth peer specialist', true, 4),
            ('FORENSIC_PEER', 'Forensic peer specialist', true, 5),
            ('PEER_SUPERVISOR', 'Peer supervisor', false, 6),
            ('CLINICAL_LICENSED', 'Licensed clinician', false, 7)
    ) as v (role, role_label, is_peer, role_order)
),

final as (
    select role, role_label, is_peer, role_order
    from roles
)

select * from final
