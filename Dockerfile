FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY nlu ./nlu
COPY commerce_core ./commerce_core
RUN pip install --no-cache-dir -c constraints.txt .
ENV SHOPBOT_DATA_DIR=/data
EXPOSE 8080
CMD ["shopbot", "serve"]
