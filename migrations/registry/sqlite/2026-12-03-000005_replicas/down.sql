DROP TABLE v1_sessions;
DROP TABLE leases;
