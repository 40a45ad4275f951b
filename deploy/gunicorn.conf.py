"""gunicorn -c deploy/gunicorn.conf.py labtrack.wsgi"""
import multiprocessing

bind = "127.0.0.1:8001"
workers = max(2, multiprocessing.cpu_count() * 2)
timeout = 120          # large uploads are streamed to disk; give them time
max_requests = 2000    # recycle workers to bound memory growth from matplotlib previews
max_requests_jitter = 200
accesslog = "-"
