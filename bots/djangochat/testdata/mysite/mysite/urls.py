# mysite/urls.py: the tutorial's room pages are not needed here.
urlpatterns = []
