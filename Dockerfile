# A Liaison node: `liaison serve` on port 8000, the node directory on a volume at /node.
# Build from the repository root:   docker build -t liaison .
# Create a node once (the admin password on standard input):
#   docker run --rm -i -v liaison-us:/node liaison init /node --name US --admin-user root \
#     --admin-password-stdin --base-url https://us.liaison.example
# Run it (TLS is the reverse proxy's job, docs/deployment.md):
#   docker run -d -v liaison-us:/node -p 127.0.0.1:8000:8000 liaison

#
# The base images are arguments, so the image can be built where no registry is reachable,
# FROM local images (tests/test_container_image.py: a Debian bookworm made by debootstrap):
#   PYTHON_BASE  an image with Python 3.11 as `python` and pip (python:3.11-slim-bookworm)
#   NODE_BASE    Node >= 20.19 and npm, for the structure editor (node:22-bookworm-slim)
#   EDITOR       built (Ketcher from frontend/, npm ci from the lock: needs the npm
#                registry) | none (no structure editor: the substance page takes SMILES,
#                names and files only, as it does when the editor is not built)
ARG PYTHON_BASE=python:3.11-slim-bookworm
ARG NODE_BASE=node:22-bookworm-slim
ARG EDITOR=built

# The substance page's structure editor (Ketcher, frontend/), built as `make editor` builds it:
# npm ci from the lock, then Vite writes ../src/liaison/web/ui/static/editor/. Node >= 20.19.
FROM ${NODE_BASE} AS editor-built
WORKDIR /build/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/vite.config.js ./
COPY frontend/src ./src
RUN npm run build -- --logLevel warn

FROM ${PYTHON_BASE} AS editor-none
RUN mkdir -p /build/src/liaison/web/ui/static/editor

FROM editor-${EDITOR} AS editor

FROM ${PYTHON_BASE}

# pg_dump/pg_restore for `liaison backup` of a PostgreSQL node; RDKit's drawing needs
# libXrender/libXext/libexpat from Debian (the rdkit wheel links them; without libXext the
# server does not start: seen building FROM a plain Debian bookworm).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       postgresql-client libxrender1 libxext6 libexpat1 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /home/liaison liaison
WORKDIR /opt/liaison
COPY pyproject.toml constraints.txt ./
# The dependencies in a layer of their own, at the same pinned versions as the tests ran with:
# a change to the code alone then rebuilds only the layers below.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))\
['project']['dependencies']))" > /tmp/requirements.txt \
    && python -m pip install --no-cache-dir -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
COPY README.md ./
COPY src ./src
# Before the install: the editor is package data (web/ui/static/editor/), served by the node.
COPY --from=editor /build/src/liaison/web/ui/static/editor ./src/liaison/web/ui/static/editor
RUN python -m pip install --no-cache-dir --no-deps . \
    && mkdir /node && chown liaison:liaison /node

USER liaison
VOLUME ["/node"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c \
    "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
ENTRYPOINT ["liaison"]
CMD ["serve", "/node", "--host", "0.0.0.0", "--port", "8000"]
