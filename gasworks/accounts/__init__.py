"""Users and access: the User model (staff roles and the customer login), role groups and their
permissions, login hardening (lockout) and the profile. Knows no domain app; domain apps extend
roles with their own permissions."""
