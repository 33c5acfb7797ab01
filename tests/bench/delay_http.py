#!/usr/bin/python3
# delay_http.py ADDR PORT DELAY_MS - a plain-HTTP backend for cold.sh
# that answers every request with an MTA-STS policy after DELAY_MS (a
# policy host "far away"; nginx terminates TLS in front of it). One
# process, asyncio: the delay is a timer, not a thread, so many requests
# wait at once. Not a benchmark itself.
import asyncio
import sys

BODY = b"version: STSv1\r\nmode: enforce\r\nmx: *.cold.test\r\nmax_age: 86400\r\n"
REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
         b"Connection: close\r\n\r\n" % len(BODY)) + BODY


async def serve(reader, writer, delay):
    try:
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
        await asyncio.sleep(delay)
        writer.write(REPLY)
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main():
    addr, port, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000.0
    server = await asyncio.start_server(lambda r, w: serve(r, w, delay), addr, port,
                                        backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
