import os

from django.core.wsgi import get_wsgi_application

from config.gc_tuning import tune

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
tune()  # after start-up: everything loaded so far lives as long as the process
