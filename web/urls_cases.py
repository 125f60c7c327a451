"""案件 (REC-9): the case list, a case's page with its stages and documents (文书, uploaded
into the vault as originals), closing and archiving."""

urlpatterns: list = []
