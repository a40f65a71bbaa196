from django.db import models


class TimeStampedModel(models.Model):
    """The base of every Switchyard model: created and updated times."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
