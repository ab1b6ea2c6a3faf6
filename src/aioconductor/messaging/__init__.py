"""oslo.messaging's RabbitMQ wire protocol, spoken on asyncio."""
