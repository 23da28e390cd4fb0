from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("channels_app.api.urls")),
    path("", include("transcoding.urls")),
]

# JSON errors under /api/, Django's usual pages elsewhere.
handler404 = "channels_app.api.errors.django_not_found"
handler500 = "channels_app.api.errors.django_server_error"
