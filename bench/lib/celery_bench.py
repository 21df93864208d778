"""Celery's side of the benchmark comparison: a no-op task, prefork workers, RabbitMQ.

Worker:   python3 -m celery -A celery_bench worker --pool prefork --concurrency 8 ...
Enqueuer: python3 celery_bench.py enqueue   (reads a count per line on stdin, sends that
          many tasks, answers "sent <first ms> <last ms>")

Settings from the environment: BENCH_CELERY_BROKER (AMQP URL), BENCH_CELERY_QUEUE (a
queue of the run's own), BENCH_CELERY_DIR (where each pool child writes its count).
No result backend: each pool child counts the tasks it ran and writes the count with the
time of the last one to a file of its own every 50 ms, which the benchmark sums.
"""
import os
import sys
import threading
import time

from celery import Celery
from celery.signals import task_postrun, worker_process_init, worker_ready

app = Celery('celery_bench', broker=os.environ['BENCH_CELERY_BROKER'])
app.conf.update(
    task_default_queue=os.environ['BENCH_CELERY_QUEUE'],
    task_acks_late=True,
    task_ignore_result=True,
    result_backend=None,
    worker_enable_remote_control=False,
    worker_send_task_events=False,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name='noop')
def noop():
    return None


_done = [0, 0.0]


@task_postrun.connect
def _count(**_kwargs):
    _done[0] += 1
    _done[1] = time.time()


def _report():
    path = os.path.join(os.environ['BENCH_CELERY_DIR'], str(os.getpid()))
    last = -1
    while True:
        if _done[0] != last:
            last = _done[0]
            tmp = path + '.tmp'
            with open(tmp, 'w') as f:
                f.write('%d %.3f\n' % (_done[0], _done[1] * 1000))
            os.replace(tmp, path)
        time.sleep(0.05)


@worker_process_init.connect
def _start_reporter(**_kwargs):
    threading.Thread(target=_report, daemon=True).start()


@worker_ready.connect
def _ready(**_kwargs):
    sys.stderr.write('celery worker ready\n')
    sys.stderr.flush()


def _enqueue():
    sys.stdout.write('enqueuer ready\n')
    sys.stdout.flush()
    with app.producer_or_acquire() as producer:
        for line in sys.stdin:
            n = int(line)
            first = time.time() * 1000
            for _ in range(n):
                noop.apply_async(producer=producer)
            sys.stdout.write('sent %.3f %.3f\n' % (first, time.time() * 1000))
            sys.stdout.flush()


if __name__ == '__main__' and sys.argv[1:] == ['enqueue']:
    _enqueue()
