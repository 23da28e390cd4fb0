from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("channels_app.api.urls")),
    path("", include("transcoding.urls")),
]
