// THE TEXTBOOK SERVICE: A DELIBERATELY PLAIN BASELINE, NOT CODE TO COPY.
//
// This is the code the introductory "sessions vs JWT" articles teach (../shared/spec/claims.md),
// written in their idiom on current versions: Express 5, express-session with a Redis store
// (connect-redis), and jsonwebtoken. authlab runs it beside its own modes to measure what the
// tutorial code costs and what it lacks (no logout-all, no revocation of a JWT before `exp`, no
// issuer or audience, no key rotation, …). It is kept out of authlab's security claims; see README.md.
import { createPublicKey } from 'node:crypto'
import { verify as verifyPassword } from '@node-rs/argon2'
import { RedisStore } from 'connect-redis'
import express from 'express'
import session from 'express-session'
import jwt from 'jsonwebtoken'
import pg from 'pg'
import { createClient } from 'redis'
import { config } from './config.ts'

declare module 'express-session' {
  interface SessionData {
    userId: string
  }
}

const privateKey = config.TEXTBOOK_JWT_PRIVATE_KEY
const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString()

// authlab's own users table, read only: the password check is the only thing taken from auth.
const db = new pg.Pool({ connectionString: config.DATABASE_URL, max: 5 })

const redisClient = createClient({ url: config.REDIS_URL })
redisClient.on('error', (err) => console.error('redis:', err.message))
await redisClient.connect()

const app = express()
app.disable('x-powered-by')
app.set('trust proxy', config.TRUST_PROXY)
app.use(express.json())

// Which replica answered, as orders and profile tell it (EXPOSE_REPLICA).
const replica = config.EXPOSE_REPLICA ? config.REPLICA_ID : undefined
app.use((_req, res, next) => {
  if (replica) res.set('x-replica', replica)
  next()
})

const router = express.Router()

router.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' })
})

router.get('/readyz', async (_req, res) => {
  await redisClient.ping()
  await db.query('SELECT 1')
  res.json({ status: 'ok' })
})

// The session half: express-session with its store in Redis, shared by every replica.
router.use(
  session({
    store: new RedisStore({ client: redisClient, prefix: 'textbook:sess:' }),
    secret: config.TEXTBOOK_SESSION_SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, secure: config.COOKIE_SECURE, maxAge: config.SESSION_IDLE_TTL_S * 1000 },
  }),
)

router.post('/login', async (req, res, next) => {
  const { email, password } = req.body ?? {}
  if (typeof email !== 'string' || typeof password !== 'string') {
    res.status(400).json({ error: 'email and password are required' })
    return
  }
  const { rows } = await db.query<{ id: string; password_hash: string }>(
    'SELECT id, password_hash FROM users WHERE email_normalized = $1',
    [email.trim().toLowerCase()],
  )
  const user = rows[0]
  if (!user || !(await verifyPassword(user.password_hash, password))) {
    res.status(401).json({ error: 'invalid email or password' })
    return
  }
  const token = jwt.sign({}, privateKey, {
    algorithm: 'ES256',
    expiresIn: config.ACCESS_TOKEN_TTL_S,
    subject: user.id,
  })
  // A new session id on login, against session fixation.
  req.session.regenerate((err) => {
    if (err) return next(err)
    req.session.userId = user.id
    req.session.save((err) => {
      if (err) return next(err)
      res.json({ token })
    })
  })
})

router.post('/logout', (req, res, next) => {
  // Ends this session only. The JWT cannot be revoked: it stays valid until its `exp`.
  req.session.destroy((err) => {
    if (err) return next(err)
    res.clearCookie('connect.sid')
    res.status(204).end()
  })
})

router.get('/session/me', (req, res) => {
  if (!req.session.userId) {
    res.status(401).json({ error: 'not logged in' })
    return
  }
  res.json({ sub: req.session.userId, replica })
})

// The token half: jsonwebtoken, verifying every request, with the algorithm pinned.
router.get('/jwt/me', (req, res) => {
  const token = req.headers.authorization?.split(' ')[1]
  if (!token) {
    res.status(401).json({ error: 'no token' })
    return
  }
  try {
    const payload = jwt.verify(token, publicKey, { algorithms: ['ES256'] }) as jwt.JwtPayload
    res.json({ sub: payload.sub, replica })
  } catch {
    res.status(401).json({ error: 'invalid token' })
  }
})

app.use('/textbook', router)

const server = app.listen(config.PORT, config.HOST, (err) => {
  if (err) throw err
  console.log(`textbook ${config.REPLICA_ID} listening on http://${config.HOST}:${config.PORT}`)
})

process.on('SIGTERM', () => {
  server.close(async () => {
    await redisClient.quit()
    await db.end()
    process.exit(0)
  })
})
