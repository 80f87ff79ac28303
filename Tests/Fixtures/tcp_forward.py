"""A TCP forwarder for tests: listens on 127.0.0.1:PORT (given, so that a daemon can be told the address
before anything listens there) and passes every connection on to HOST:TARGET_PORT, both ways.
Usage: tcp_forward.py PORT HOST TARGET_PORT. Prints its port once it listens; exits when stdin closes."""
import asyncio
import os
import sys
import threading

PORT, HOST, TARGET = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection(HOST, TARGET)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    print(PORT, flush=True)
    async with server:
        await server.serve_forever()


def watch_stdin():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=watch_stdin, daemon=True).start()
asyncio.run(main())
