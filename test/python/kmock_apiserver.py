"""A mock Kubernetes API server for the `--apply` tests: kmock's KubernetesEmulator (PyPI `kmock`) on 127.0.0.1.

Prints the port it listens on (one line on stdout), then serves until SIGTERM.

kmock's emulator stores the objects it is sent and serves them back (GET, list, discovery of the declared
resources, Kubernetes `Status` errors); by its own docs it is "a database-over-http" with no resource-specific
logic. Server-side apply is added here, as the emulator's docs suggest (subclass for special treatment):
a PATCH with `application/apply-patch+yaml` creates the object when it is absent (201) and merges into it
when present (200); `dryRun=All` answers the same but stores nothing; an undeclared resource is the 404 a real
API server gives; objects get a uid and a resourceVersion. What a real API server does beyond that (field
ownership, defaulting, schema validation, admission) is not emulated.

  --resource GROUP/VERSION/PLURAL=Kind   a served resource (repeatable; core resources as v1/PLURAL=Kind)
  --answer JSON                          {"method", "path" or "path_regex", "status", "reason", "message"}: kmock
                                         answers such requests with that Status and stores nothing (repeatable)
  env KMOCK_TOKEN                        when set, API requests need `Authorization: Bearer $KMOCK_TOKEN` (else 401)

GET /_kmock/requests lists the API requests received (method, path, query, content type, authorization, user agent,
body).
"""

import argparse
import asyncio
import copy
import datetime
import itertools
import json
import os
import re
import signal
import uuid

import aiohttp.web
import kmock

APPLY = 'application/apply-patch+yaml'


class ApplyingEmulator(kmock.KubernetesEmulator):
    """kmock's emulator with server-side apply, a request log and an optional bearer token."""

    def configure(self, served: set[tuple[str, str, str]], answered: list[tuple[str, re.Pattern[str]]], token: str | None) -> None:
        self.served = served
        self.answered = answered
        self.token = token
        self.log: list[dict] = []
        self.versions = itertools.count(1)

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        if request.url.path.startswith('/_kmock/'):
            return await super()._handle(request)
        self.log.append({
            'method': str(request.method.value).upper(),
            'path': request.url.path,
            'query': dict(request.params),
            'content_type': request.headers.get('Content-Type'),
            'authorization': request.headers.get('Authorization'),
            'user_agent': request.headers.get('User-Agent'),
            'body': request.data,
        })
        if self.token is not None and request.headers.get('Authorization') != f'Bearer {self.token}':
            raise kmock.KubernetesError(status=401, reason='Unauthorized', message='Unauthorized')
        is_apply = request.method == kmock.method.PATCH and request.name is not None \
            and (request.headers.get('Content-Type') or '').split(';')[0].strip() == APPLY
        if not is_apply:
            return await super()._handle(request)
        method = str(request.method.value).lower()
        if any(m == method and p.fullmatch(request.url.path) for m, p in self.answered):
            # The configured reaction (kmock's DSL) answers; nothing is stored.
            return await kmock.RawHandler._handle(self, request)
        return self._apply(request)

    def _apply(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        res = request.resource
        if (res.group, res.version, res.plural) not in self.served:
            raise kmock.KubernetesNotFoundError(reason='NotFound', message='the server could not find the requested resource')
        body = request.data
        if not isinstance(body, dict):
            raise kmock.KubernetesError(status=400, reason='BadRequest', message='the body of an apply patch is not a JSON/YAML object')
        name = body.get('metadata', {}).get('name')
        if name != request.name:
            raise kmock.KubernetesError(status=400, reason='BadRequest',
                                        message=f'the name of the object ({name}) does not match the name on the URL ({request.name})')
        key = (res, request.namespace, request.name)
        exists = key in self.objects and not self.objects[key].deleted
        stamp = {'metadata': {'resourceVersion': str(next(self.versions))}}
        if not exists:
            now = datetime.datetime.now(tz=datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')
            stamp['metadata'].update(uid=str(uuid.uuid4()), creationTimestamp=now)
        if request.params.get('dryRun') == 'All':
            result = kmock.Object(copy.deepcopy(self.objects[key].raw) if exists else {})
            result.patch(body)
            result.patch(stamp)
            return aiohttp.web.json_response(result.raw, status=200 if exists else 201)
        if exists:
            self.objects[key].patch(body)
        else:
            self.objects[key] = copy.deepcopy(body)
        self.objects[key].patch(stamp)
        return aiohttp.web.json_response(self.objects[key].raw, status=200 if exists else 201)


def status(code: int, reason: str, message: str) -> dict:
    return {'apiVersion': 'v1', 'kind': 'Status', 'metadata': {}, 'status': 'Failure', 'code': code, 'reason': reason, 'message': message}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--resource', action='append', default=[])
    parser.add_argument('--answer', action='append', default=[])
    args = parser.parse_args()

    emulator = ApplyingEmulator()
    served: set[tuple[str, str, str]] = set()
    for spec in args.resource:
        path, kind = spec.split('=', 1)
        res = kmock.resource(path)
        served.add((res.group, res.version, res.plural))
        emulator.resources[res] = {'kind': kind, 'namespaced': True, 'verbs': {'get', 'list', 'patch', 'delete'}}
    answered: list[tuple[str, re.Pattern[str]]] = []
    for raw in args.answer:
        a = json.loads(raw)
        path = re.compile(a['path_regex'] if 'path_regex' in a else re.escape(a['path']))
        answered.append((a['method'].lower(), path))
        emulator[a['method'].lower(), path] << a['status'] << status(a['status'], a['reason'], a['message'])
    emulator.configure(served, answered, os.environ.get('KMOCK_TOKEN'))
    emulator['get /_kmock/requests'] << (lambda: {'requests': emulator.log})

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with emulator, kmock.Server(emulator, host='127.0.0.1') as server:
        print(server.port, flush=True)
        await stop.wait()


if __name__ == '__main__':
    asyncio.run(main())
