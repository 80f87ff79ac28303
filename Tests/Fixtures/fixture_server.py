"""What every helper server in this folder does once it is made: print its port on the first line
(FixtureProcess reads it), end when the test process ends, and serve."""
import os
import sys
import threading


def serve(server):
    print(server.server_address[1], flush=True)
    # The test process holds this process's stdin open; when that process ends, even killed, the
    # read returns and this server ends too.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    server.serve_forever()
