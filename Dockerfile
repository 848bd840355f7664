FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY nlu ./nlu
COPY commerce_core ./commerce_core
RUN pip install --no-cache-dir -c constraints.txt . \
    && groupadd --system --gid 10001 shopbot \
    && useradd --system --uid 10001 --gid shopbot --home-dir /data --shell /usr/sbin/nologin shopbot \
    && install -d -o shopbot -g shopbot -m 0700 /data
ENV SHOPBOT_DATA_DIR=/data
# never root: a bug in a parser or a dependency then owns only the data directory, not the container
USER 10001:10001
EXPOSE 8080
CMD ["shopbot", "serve"]
