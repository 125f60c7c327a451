
urlpatterns: list = []  # tus endpoints: see ingest/views (helper fills in)
