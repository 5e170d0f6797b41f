grant pgtle_admin to postgres;
