"""A person's rights over what the municipalities hold on them (GDPR): access and portability."""
