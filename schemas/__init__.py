"""Request and resource models validated at the HTTP edge."""
